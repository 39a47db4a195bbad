/**
 * Archive files in an S3-compatible bucket, through the official AWS SDK. A download is staged in a
 * local folder, one file per attempt (so a retry on the same machine resumes it, and a stalled attempt
 * writes only into its own), then uploaded from that file (multipart for large files): the object exists
 * only once the upload completes, and only if the key held none (`If-None-Match: *`), so a late attempt
 * never replaces an object another one published. Its SHA-256, computed from the staged bytes on disk,
 * is stored as object metadata: a retry after a completed upload finds it without reading it back, and
 * the object is checked against it (size and hash) once uploaded. The SDK checksums every request body,
 * so S3 refuses bytes altered on their way. Credentials come from the standard AWS variables (the SDK's
 * default chain); an endpoint makes it any S3-compatible store.
 */
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { GetObjectCommand, HeadObjectCommand, NotFound, S3Client, S3ServiceException } from '@aws-sdk/client-s3';
import { Upload } from '@aws-sdk/lib-storage';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { StagingArea } from './staging';
import { ArchiveMismatch, checkKey, checkPublished, stagedObject, type ArchivedObject, type ArchiveStore } from './store';

export interface S3ArchiveSettings {
  bucket: string;
  /** Prepended to every key (e.g. `videos/`). */
  prefix: string;
  region: string;
  /** An S3-compatible endpoint (MinIO, moto, R2...); path-style addressing then. */
  endpoint?: string;
  /** Where downloads are staged before upload. */
  stagingDir: string;
}

/** How long a presigned download link the API hands out stays valid. */
export const PRESIGNED_URL_SECONDS = 300;

export class S3ArchiveStore implements ArchiveStore {
  readonly kind = 's3' as const;
  private readonly client: S3Client;
  private readonly staging: StagingArea;

  constructor(private readonly settings: S3ArchiveSettings) {
    this.client = new S3Client({ region: settings.region, ...(settings.endpoint ? { endpoint: settings.endpoint, forcePathStyle: true } : {}) });
    this.staging = new StagingArea(settings.stagingDir);
  }

  stage(key: string, attempt: number): Promise<string> {
    return this.staging.claim(key, attempt);
  }

  discardStaging(key: string): Promise<void> {
    return this.staging.sweep(key);
  }

  async commit(key: string, stagingPath: string, expected: { size: number; contentType: string }): Promise<ArchivedObject> {
    const object = await stagedObject(key, stagingPath, expected.size);
    const upload = new Upload({
      client: this.client,
      params: {
        Bucket: this.settings.bucket,
        Key: this.objectKey(key),
        Body: createReadStream(stagingPath),
        ContentType: expected.contentType,
        ContentLength: object.size,
        Metadata: { sha256: object.sha256 },
        // Published once: an object already there (another attempt's) is kept, and checked below.
        IfNoneMatch: '*',
      },
    });
    await upload.done().catch((error: unknown) => {
      if (!(error instanceof S3ServiceException && error.$metadata.httpStatusCode === 412)) throw error;
    });
    await this.staging.sweep(key);
    return checkPublished(key, object, await this.find(key));
  }

  async find(key: string): Promise<ArchivedObject | null> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key) }));
      const sha256 = head.Metadata?.sha256;
      // An object without our checksum was not written by us: treat it as absent (it is overwritten).
      return sha256 ? { size: head.ContentLength ?? 0, sha256 } : null;
    } catch (error) {
      if (error instanceof NotFound || (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404)) return null;
      throw error;
    }
  }

  async read(key: string, range?: { start: number; end: number }, size?: number): Promise<Readable | null> {
    try {
      const object = await this.client.send(
        new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key), ...(range ? { Range: `bytes=${range.start}-${range.end}` } : {}) }),
      );
      const actual = Number(/\/(\d+)$/.exec(object.ContentRange ?? '')?.[1] ?? object.ContentLength);
      if (size !== undefined && actual !== size) {
        (object.Body as Readable).destroy();
        throw new ArchiveMismatch(`the archived ${key} is ${actual} bytes, not the ${size} of its entry`);
      }
      return object.Body as Readable;
    } catch (error) {
      if (error instanceof S3ServiceException && error.$metadata.httpStatusCode === 404) return null;
      throw error;
    }
  }

  /** A short-lived link to download the object directly from the bucket, named `filename`. */
  presignedUrl(key: string, filename: string): Promise<string> {
    return getSignedUrl(
      this.client,
      new GetObjectCommand({ Bucket: this.settings.bucket, Key: this.objectKey(key), ResponseContentDisposition: `attachment; filename="${filename}"` }),
      { expiresIn: PRESIGNED_URL_SECONDS },
    );
  }

  private objectKey(key: string): string {
    return `${this.settings.prefix}${checkKey(key)}`;
  }
}
