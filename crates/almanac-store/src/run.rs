//! Run records: the manifest of a run and its results, immutable once recorded.

use serde::{Deserialize, Serialize};

use crate::digest::FieldHasher;
use crate::validate::{require_non_empty, require_timestamp};
use crate::StoreError;

/// A finished run to record: what [`Storage::record_run`] takes.
///
/// [`Storage::record_run`]: crate::Storage::record_run
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRun {
    /// What the run computed, e.g. `cashflows`, `eve`, `lcr`.
    pub kind: String,
    /// The run manifest (input ids and hashes, scenario set, code version) as JSON; the store
    /// keeps it as opaque text.
    pub manifest_json: String,
    /// The results, in whatever format the engine wrote them (CSV, Parquet, JSON).
    pub results: Vec<u8>,
    /// The engine's hash of `results`, kept as given; empty for the store's own SHA-256 of
    /// the bytes (lowercase hex), which it computes for the audit entry in any case — an
    /// engine whose hash is SHA-256 need not compute it a second time.
    pub results_hash: String,
    /// When the run finished, an ISO 8601 timestamp given by the caller.
    pub created_at: String,
}

/// A recorded run without its manifest and results.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RunInfo {
    /// `"run-"` + 16 hex digits.
    pub id: String,
    /// What the run computed.
    pub kind: String,
    /// When it finished, as given by the caller.
    pub created_at: String,
    /// The engine's hash of the results.
    pub results_hash: String,
    /// The size of the results in bytes.
    pub results_len: u64,
}

/// A recorded run with its manifest and results.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Run {
    /// `"run-"` + 16 hex digits.
    pub id: String,
    /// What the run computed.
    pub kind: String,
    /// When it finished.
    pub created_at: String,
    /// The run manifest as recorded.
    pub manifest_json: String,
    /// The engine's hash of the results.
    pub results_hash: String,
    /// The results, byte for byte.
    pub results: Vec<u8>,
}

pub(crate) fn validate(run: &NewRun) -> Result<(), StoreError> {
    require_non_empty("kind", &run.kind)?;
    require_timestamp("created_at", &run.created_at)
}

/// `"run-"` + the first 16 hex digits of the SHA-256 over the kind, manifest, timestamp and
/// the audit sequence number the run will get. The sequence number is unique in a store, so
/// two identical runs recorded at the same instant still get two ids.
pub(crate) fn run_id(run: &NewRun, audit_seq: u64) -> String {
    let mut hasher = FieldHasher::new();
    hasher
        .field(run.kind.as_bytes())
        .field(run.manifest_json.as_bytes())
        .field(run.created_at.as_bytes())
        .number(audit_seq);
    let hex = hasher.finish_hex();
    format!("run-{}", &hex[..16])
}

/// Results from this size on are stored compressed; smaller ones as given, so a small run
/// can still be read with any SQLite client.
pub(crate) const COMPRESS_FROM: usize = 1 << 20;

/// zstd level of stored results: level 1 compresses a JSON report about four to one at some
/// 400 MB/s, faster than SQLite writes the bytes it saves.
const ZSTD_LEVEL: i32 = 1;

/// How a run's results are stored (`runs.results_encoding`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Encoding {
    /// The bytes as given.
    Identity,
    /// One zstd frame of the bytes as given.
    Zstd,
}

impl Encoding {
    /// The name in `runs.results_encoding`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Encoding::Identity => "identity",
            Encoding::Zstd => "zstd",
        }
    }

    /// The encoding named `name` in `runs.results_encoding` of run `id`.
    pub(crate) fn from_name(id: &str, name: &str) -> Result<Self, StoreError> {
        match name {
            "identity" => Ok(Encoding::Identity),
            "zstd" => Ok(Encoding::Zstd),
            other => Err(StoreError::internal(format!(
                "run {id} has results in an unknown encoding {other:?}"
            ))),
        }
    }
}

/// zstd worker threads: one per core (the bytes do not depend on it).
fn zstd_workers() -> u32 {
    std::thread::available_parallelism().map_or(1, |n| u32::try_from(n.get()).unwrap_or(1))
}

#[allow(clippy::needless_pass_by_value)] // the shape `map_err` hands it
fn compress_fail(e: std::io::Error) -> StoreError {
    StoreError::internal(format!("compressing run results: {e}"))
}

/// How `results` are stored: compressed from [`COMPRESS_FROM`] bytes on (`None` for the bytes
/// as given).
fn encode(results: &[u8]) -> Result<(Encoding, Option<Vec<u8>>), StoreError> {
    if results.len() < COMPRESS_FROM {
        return Ok((Encoding::Identity, None));
    }
    let mut compressor = zstd::bulk::Compressor::new(ZSTD_LEVEL).map_err(compress_fail)?;
    compressor
        .set_parameter(zstd::stream::raw::CParameter::NbWorkers(zstd_workers()))
        .map_err(compress_fail)?;
    let packed = compressor.compress(results).map_err(compress_fail)?;
    Ok((Encoding::Zstd, Some(packed)))
}

/// A run's results as the store keeps them: their SHA-256 and length, and the bytes as
/// stored (compressed from 1 MiB on). Made from results at hand by
/// [`EncodedResults::encode`], or while they are produced by a [`ResultsWriter`]; recorded by
/// [`Storage::record_encoded_run`](crate::Storage::record_encoded_run).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedResults {
    pub(crate) sha256: String,
    pub(crate) len: u64,
    pub(crate) encoding: Encoding,
    pub(crate) stored: Vec<u8>,
}

impl EncodedResults {
    /// The results at hand, hashed and compressed side by side (one thread each).
    ///
    /// # Errors
    /// [`StoreError::Internal`] if compressing fails.
    pub fn encode(results: &[u8]) -> Result<EncodedResults, StoreError> {
        let (sha256, encoded) = std::thread::scope(|scope| {
            let hash = scope.spawn(|| crate::digest::sha256_hex(results));
            let encoded = encode(results);
            (hash.join(), encoded)
        });
        let sha256 = sha256.map_err(|_| StoreError::internal("hashing the results failed"))?;
        let (encoding, packed) = encoded?;
        Ok(EncodedResults {
            sha256,
            len: results.len() as u64,
            encoding,
            stored: packed.unwrap_or_else(|| results.to_vec()),
        })
    }

    /// The SHA-256 of the results (lowercase hex).
    pub fn sha256(&self) -> &str {
        &self.sha256
    }

    /// The length of the results in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether there are no results.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

/// Encodes a run's results as they are written ([`std::io::Write`]): hashed, and from
/// 1 MiB on compressed by zstd's worker threads while the writer goes on,
/// so a report of hundreds of megabytes is never held whole. [`ResultsWriter::finish`] gives
/// what [`EncodedResults::encode`] gives for the same bytes, but for how the compressed
/// frame is cut (it decompresses to the same bytes).
pub struct ResultsWriter {
    hasher: sha2::Sha256,
    len: u64,
    /// The bytes until [`COMPRESS_FROM`] (results smaller than that are stored as given).
    head: Vec<u8>,
    zstd: Option<zstd::stream::write::Encoder<'static, Vec<u8>>>,
}

impl Default for ResultsWriter {
    fn default() -> Self {
        ResultsWriter::new()
    }
}

impl std::fmt::Debug for ResultsWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ResultsWriter")
            .field("len", &self.len)
            .field("compressing", &self.zstd.is_some())
            .finish_non_exhaustive()
    }
}

impl ResultsWriter {
    /// A writer with nothing written yet.
    pub fn new() -> ResultsWriter {
        ResultsWriter {
            hasher: sha2::Digest::new(),
            len: 0,
            head: Vec::new(),
            zstd: None,
        }
    }

    /// The results written, encoded.
    ///
    /// # Errors
    /// [`StoreError::Internal`] if compressing fails.
    pub fn finish(self) -> Result<EncodedResults, StoreError> {
        let sha256 = crate::digest::to_hex(&sha2::Digest::finalize(self.hasher));
        let (encoding, stored) = match self.zstd {
            Some(z) => (Encoding::Zstd, z.finish().map_err(compress_fail)?),
            None => (Encoding::Identity, self.head),
        };
        Ok(EncodedResults {
            sha256,
            len: self.len,
            encoding,
            stored,
        })
    }
}

impl std::io::Write for ResultsWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.hasher, buf);
        self.len += buf.len() as u64;
        match &mut self.zstd {
            Some(z) => z.write_all(buf)?,
            None => {
                self.head.extend_from_slice(buf);
                if self.head.len() >= COMPRESS_FROM {
                    let mut z = zstd::stream::write::Encoder::new(Vec::new(), ZSTD_LEVEL)?;
                    z.multithread(zstd_workers())?;
                    z.write_all(&std::mem::take(&mut self.head))?;
                    self.zstd = Some(z);
                }
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        // Nothing is stored until `finish`: the compressor keeps its frame open.
        Ok(())
    }
}

/// The results as given from their stored bytes; `len` is their recorded length as given
/// (`None` on runs recorded before lengths were kept, all stored as given).
pub(crate) fn decode(
    id: &str,
    encoding: Encoding,
    stored: Vec<u8>,
    len: Option<u64>,
) -> Result<Vec<u8>, StoreError> {
    match encoding {
        // Their length and hash are checked against the audit log, not here.
        Encoding::Identity => Ok(stored),
        Encoding::Zstd => {
            let n = len.ok_or_else(|| {
                StoreError::internal(format!("run {id} has compressed results without a length"))
            })?;
            let capacity = usize::try_from(n)
                .map_err(|_| StoreError::internal(format!("run {id} has results of {n} bytes")))?;
            let results = zstd::bulk::decompress(&stored, capacity).map_err(|e| {
                StoreError::internal(format!("run {id} has damaged compressed results: {e}"))
            })?;
            if results.len() != capacity {
                return Err(StoreError::internal(format!(
                    "run {id} has {} bytes of results where {n} were recorded",
                    results.len()
                )));
            }
            Ok(results)
        }
    }
}

/// The `detail_json` of a `record_run` audit entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct RunDetail {
    pub(crate) kind: String,
    pub(crate) results_hash: String,
    pub(crate) results_len: u64,
    pub(crate) results_sha256: String,
    pub(crate) manifest_sha256: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sequence_number_separates_identical_runs() {
        let run = NewRun {
            kind: "cashflows".into(),
            manifest_json: "{}".into(),
            results: Vec::new(),
            results_hash: "h".into(),
            created_at: "2026-11-01T00:00:00Z".into(),
        };
        let first = run_id(&run, 1);
        assert_eq!(first.len(), "run-".len() + 16);
        assert_ne!(first, run_id(&run, 2));
        assert_eq!(first, run_id(&run, 1));
    }

    #[test]
    fn large_results_round_trip_compressed_and_small_ones_stay_as_given() {
        let small = b"{\"eve\": 1}".to_vec();
        assert_eq!(encode(&small).unwrap(), (Encoding::Identity, None));
        let big: Vec<u8> = (0..COMPRESS_FROM + 17)
            .map(|k| b"0123456789,{}"[k * 7 % 13])
            .collect();
        let (encoding, packed) = encode(&big).unwrap();
        assert_eq!(encoding, Encoding::Zstd);
        let packed = packed.unwrap();
        assert!(packed.len() < big.len() / 4);
        let n = Some(big.len() as u64);
        assert_eq!(decode("r", Encoding::Zstd, packed.clone(), n).unwrap(), big);
        assert_eq!(
            decode("r", Encoding::Identity, small.clone(), None).unwrap(),
            small
        );
        // A wrong length or damaged bytes are errors naming the run, never other results.
        let short = Some(big.len() as u64 - 1);
        let err = decode("run-x", Encoding::Zstd, packed.clone(), short).unwrap_err();
        assert!(err.to_string().contains("run-x"), "{err}");
        let mut damaged = packed;
        let mid = damaged.len() / 2;
        damaged.truncate(mid);
        let err = decode("run-x", Encoding::Zstd, damaged, n).unwrap_err();
        assert!(err.to_string().contains("damaged"), "{err}");
        let err = decode("run-x", Encoding::Zstd, Vec::new(), None).unwrap_err();
        assert!(err.to_string().contains("without a length"), "{err}");
        assert!(Encoding::from_name("run-x", "gzip").is_err());
        for e in [Encoding::Identity, Encoding::Zstd] {
            assert_eq!(Encoding::from_name("r", e.name()).unwrap(), e);
        }
    }

    /// Written in pieces of any size, results are encoded as when they are encoded whole:
    /// the same SHA-256 (checked against the digest of the bytes), length and encoding, and
    /// stored bytes that decode to them — below, at and above the size that is compressed.
    #[test]
    fn results_written_in_pieces_encode_as_the_whole() {
        use std::io::Write;
        let bytes: Vec<u8> = (0..3 * COMPRESS_FROM + 5)
            .map(|k| b"0123456789,{}\n\"abc"[(k * 7 + k / 1000) % 18])
            .collect();
        for n in [
            0,
            10,
            COMPRESS_FROM - 1,
            COMPRESS_FROM,
            3 * COMPRESS_FROM + 5,
        ] {
            let results = &bytes[..n];
            let whole = EncodedResults::encode(results).unwrap();
            assert_eq!(whole.sha256(), crate::digest::sha256_hex(results));
            for piece in [1, 4096, 1 << 20, 1 << 22] {
                if piece == 1 && n > 1 << 16 {
                    continue;
                }
                let mut w = ResultsWriter::new();
                for p in results.chunks(piece) {
                    w.write_all(p).unwrap();
                }
                w.flush().unwrap();
                let streamed = w.finish().unwrap();
                assert_eq!(
                    streamed.sha256(),
                    whole.sha256(),
                    "{n} in pieces of {piece}"
                );
                assert_eq!(streamed.len(), n as u64);
                assert_eq!(streamed.is_empty(), n == 0);
                assert_eq!(streamed.encoding, whole.encoding, "{n}");
                let back = decode("r", streamed.encoding, streamed.stored, Some(n as u64));
                assert_eq!(back.unwrap(), results, "{n} in pieces of {piece}");
            }
        }
    }
}
