/**
 * Chunkref values (SPEC §5.4): version (1|2) ‖ SHA-256 (32) ‖ u64 size ‖
 * u16 sourcePeerLen ‖ sourcePeer, and for version 2 a u16 replica count
 * followed by (u16 len ‖ nodeID ‖ u16 len ‖ address) per replica. The value
 * must be consumed exactly.
 */
import { DecodeError, type ErrorContext } from '../errors.js';

/** A decoded chunkref value (SPEC §5.4): the payload's SHA-256, its size and where it came from. */
export interface ChunkRef {
  version: 1 | 2;
  /** Lowercase hex SHA-256 of the payload. */
  digest: string;
  size: bigint;
  sourcePeer: Buffer;
  replicas: Array<{ nodeId: Buffer; address: Buffer }>;
}

/** Decodes a chunkref value; one that does not decode is an ERR_S3_INVALID_CHUNKREF DecodeError with context ctx. */
export function decodeChunkRef(v: Buffer, ctx: ErrorContext = {}): ChunkRef {
  const bad = (reason: string): DecodeError => new DecodeError('ERR_S3_INVALID_CHUNKREF', reason, ctx);
  let pos = 0;
  const need = (n: number) => pos + n <= v.length;
  const str = (): Buffer | null => {
    if (!need(2)) return null;
    const len = v.readUInt16BE(pos);
    pos += 2;
    if (!need(len)) return null;
    const out = v.subarray(pos, pos + len);
    pos += len;
    return out;
  };
  if (!need(1)) throw bad('empty chunkref value');
  const version = v[pos++];
  if (version !== 1 && version !== 2) throw bad(`unknown chunkref version ${version}`);
  if (!need(40)) throw bad('chunkref value too short');
  const digest = v.toString('hex', pos, pos + 32);
  const size = v.readBigUInt64BE(pos + 32);
  pos += 40;
  const sourcePeer = str();
  if (!sourcePeer) throw bad('chunkref source peer truncated');
  const replicas: ChunkRef['replicas'] = [];
  if (version === 2) {
    if (!need(2)) throw bad('chunkref replica count truncated');
    const count = v.readUInt16BE(pos);
    pos += 2;
    for (let i = 0; i < count; i++) {
      const nodeId = str();
      const address = nodeId && str();
      if (!nodeId || !address) throw bad(`chunkref replica ${i} truncated`);
      replicas.push({ nodeId, address });
    }
  }
  if (pos !== v.length) throw bad(`${v.length - pos} trailing bytes after chunkref`);
  return { version, digest, size, sourcePeer, replicas };
}
