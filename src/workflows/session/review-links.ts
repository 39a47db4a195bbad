/**
 * The review links this session refuses: `revokeReviewLink` adds a link's id to `state.revokedLinks`,
 * which every API instance reads with the state it already reads for a link. It changes only the state
 * (no command), so histories without it replay as before. Bounded: past REVOKED_LINKS_MAX the update is
 * refused (rotating the minting token revokes all its links at once).
 */
import * as wf from '@temporalio/workflow';
import { REVIEW_LINK_ID, REVOKED_LINKS_MAX, revokeReviewLinkUpdate, type RevokeReviewLinkInput } from '../../contract/session';
import type { SessionRun } from './context';

export function registerReviewLinkHandlers(run: SessionRun): void {
  wf.setHandler(
    revokeReviewLinkUpdate,
    ({ linkId }) => {
      if (!run.state.revokedLinks.includes(linkId)) {
        run.state.revokedLinks.push(linkId);
        run.touch();
      }
      return { revokedLinks: run.state.revokedLinks.length };
    },
    { validator: (input) => checkRevocation(run, input) },
  );
}

/** Refused before it reaches history: a malformed id, or a full list. */
function checkRevocation(run: SessionRun, input: RevokeReviewLinkInput | undefined): void {
  const linkId = input?.linkId;
  if (typeof linkId !== 'string' || !REVIEW_LINK_ID.test(linkId)) throw new Error('invalid revokeReviewLink input: linkId must be a review link id (rl_...)');
  if (!run.state.revokedLinks.includes(linkId) && run.state.revokedLinks.length >= REVOKED_LINKS_MAX) {
    throw new Error(`this session already refuses ${REVOKED_LINKS_MAX} review links; rotate the minting token to revoke the rest`);
  }
}
