import test from 'ava';
import { encodeInfoPath, renderEncodeInfo } from '../../lib/encode/info.js';
import { VERSION } from '../../lib/version.js';

test('encode_info.json: Go json.Encoder with a two-space indent, fields in elastickv EncodeInfo order, cluster id omitted when empty', (t) => {
  const base = {
    wallTimeMs: Date.UTC(2026, 0, 2, 3, 4, 5, 60),
    inputRoot: 'dump<1>',
    outputFsmPath: 'out.fsm',
    outputFsmSha256: 'ab'.repeat(32),
    lastCommitTs: 18446744073709551615n,
    lastCommitTsOverridden: true,
    manifestLastCommitTs: 7n,
    manifestClusterId: '',
    selfTest: { ran: true, matched: false },
  };
  t.is(
    renderEncodeInfo(base),
    `{
  "format_version": 1,
  "encoder_version": "ekv-s3-encode ${VERSION}",
  "encoder_key_format_version": 1,
  "wall_time_iso": "2026-01-02T03:04:05.06Z",
  "input_root": "dump\\u003c1\\u003e",
  "output_fsm_path": "out.fsm",
  "output_fsm_sha256": "${'ab'.repeat(32)}",
  "last_commit_ts": 18446744073709551615,
  "last_commit_ts_overridden": true,
  "manifest_last_commit_ts": 7,
  "adapters_enabled": [
    "s3"
  ],
  "self_test": {
    "ran": true,
    "matched": false
  }
}
`,
  );
  t.regex(renderEncodeInfo({ ...base, manifestClusterId: 'prod' }), /"manifest_last_commit_ts": 7,\n  "manifest_cluster_id": "prod",\n  "adapters_enabled"/);
  t.is(encodeInfoPath('/x/OUT.fsm'), '/x/OUT.fsm.encode_info.json');
});
