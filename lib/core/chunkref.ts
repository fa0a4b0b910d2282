/**
 * Chunkref values (SPEC §5.4): version (1|2) ‖ SHA-256 (32) ‖ u64 size ‖
 * u16 sourcePeerLen ‖ sourcePeer, and for version 2 a u16 replica count
 * followed by (u16 len ‖ nodeID ‖ u16 len ‖ address) per replica. The value
 * must be consumed exactly.
 */
export interface ChunkRef {
  version: 1 | 2;
  /** Lowercase hex SHA-256 of the payload. */
  digest: string;
  size: bigint;
  sourcePeer: Buffer;
  replicas: Array<{ nodeId: Buffer; address: Buffer }>;
}

/** Decodes a chunkref value; returns a reason string when it does not decode. */
export function decodeChunkRef(v: Buffer): ChunkRef | string {
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
  if (!need(1)) return 'empty chunkref value';
  const version = v[pos++];
  if (version !== 1 && version !== 2) return `unknown chunkref version ${version}`;
  if (!need(40)) return 'chunkref value too short';
  const digest = v.toString('hex', pos, pos + 32);
  const size = v.readBigUInt64BE(pos + 32);
  pos += 40;
  const sourcePeer = str();
  if (!sourcePeer) return 'chunkref source peer truncated';
  const replicas: ChunkRef['replicas'] = [];
  if (version === 2) {
    if (!need(2)) return 'chunkref replica count truncated';
    const count = v.readUInt16BE(pos);
    pos += 2;
    for (let i = 0; i < count; i++) {
      const nodeId = str();
      const address = nodeId && str();
      if (!nodeId || !address) return `chunkref replica ${i} truncated`;
      replicas.push({ nodeId, address });
    }
  }
  if (pos !== v.length) return `${v.length - pos} trailing bytes after chunkref`;
  return { version, digest, size, sourcePeer, replicas };
}
