/**
 * The chaos scenarios fail HeyGen calls by the hundred on purpose: the warning per failed activity
 * would bury the one-line summaries. TEST_LOG_LEVEL=warn brings them back.
 */
process.env.TEST_LOG_LEVEL ??= 'error';
