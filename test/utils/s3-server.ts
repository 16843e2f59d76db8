import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// s3rver ships no types; it is an S3 protocol implementation (path-style, SigV4) on local disk.
const S3rver = require('s3rver') as new (options: Record<string, unknown>) => { run(): Promise<AddressInfo>; close(): Promise<void> };

export interface TestS3 {
  /** FILE_STORAGE_URL for the gateway. */
  url(prefix?: string): string;
  credentials: { accessKeyId: string; secretAccessKey: string };
  endpoint: string;
  stop(): Promise<void>;
}

/** A throwaway S3-compatible server on loopback with one bucket, for the storage suites. */
export async function startTestS3(bucket = 'ggz-files'): Promise<TestS3> {
  const directory = mkdtempSync(join(tmpdir(), 'ggz-s3-'));
  const server = new S3rver({ address: '127.0.0.1', port: 0, silent: true, directory, configureBuckets: [{ name: bucket }] });
  const { port } = await server.run();
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    url: (prefix = 'attachments') => `s3://${bucket}/${prefix}?endpoint=${encodeURIComponent(endpoint)}&region=us-east-1`,
    // s3rver's fixed development key pair.
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    async stop() {
      await server.close();
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
