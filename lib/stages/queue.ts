/**
 * Queue depth between stages, in records. Records before the spiller carry
 * chunk payloads of up to ~1 MiB, and every stage buffers this many on each
 * side: a deep queue would hold tens of MiB of payload whenever a later
 * stage (disk, hashing) is the bottleneck. Payload-free records after the
 * spiller can queue deeper.
 */
export const PAYLOAD_RECORDS = 2;
export const METADATA_RECORDS = 64;
