/**
 * Custom search attributes of the session workflow. They are how operators find sessions in the Temporal
 * Web UI and CLI (`temporal workflow list --query 'VideoAgentStatus="reviewing"'`) and how the API lists
 * them. Every server the service runs against must have them registered: the embedded dev server does it
 * at start, docker-compose and Temporal Cloud via `temporal operator search-attribute create` / `tcld`.
 *
 * Values are stored unencrypted: never put secrets or personal data in them.
 */
import { defineSearchAttributeKey, type SearchAttributePair } from '@temporalio/common';

/** A search attribute key of any type (the SDK does not export its key type by name). */
export type AnySearchAttributeKey = SearchAttributePair['key'];

/** Our phase of the session (`creating`, `thinking`, `reviewing`, ..., `completed`). */
export const VideoAgentStatus = defineSearchAttributeKey('VideoAgentStatus', 'KEYWORD');
/** HeyGen's `session_id`, once the session exists at HeyGen. */
export const HeyGenSessionId = defineSearchAttributeKey('HeyGenSessionId', 'KEYWORD');
/** The API tenant that owns the session, so listing can be scoped per tenant. */
export const VideoAgentTenant = defineSearchAttributeKey('VideoAgentTenant', 'KEYWORD');
/** Who started the session (the API token's name, or the operator). */
export const VideoAgentRequestedBy = defineSearchAttributeKey('VideoAgentRequestedBy', 'KEYWORD');

export const SEARCH_ATTRIBUTES: readonly AnySearchAttributeKey[] = [
  VideoAgentStatus,
  HeyGenSessionId,
  VideoAgentTenant,
  VideoAgentRequestedBy,
];
