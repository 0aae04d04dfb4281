//! One service's data directory to and from a snapshot file: the engine's tar
//! stream, compressed with zstd on the way to disk (hashed as it is written) and
//! decompressed on the way back. Compression runs on a blocking thread, fed through
//! a bounded channel, so a large database never sits in memory whole.

use std::fs::File;
use std::io::{Read, Write};
use std::path::Path;

use bytes::Bytes;
use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::store::HashingWriter;
use crate::engine::Engine;

/// zstd's default level: about as fast as the disk on save, and decompression
/// speed barely depends on it.
const LEVEL: i32 = 3;

/// Chunks in flight between the engine and the compressor.
const IN_FLIGHT: usize = 16;

/// Writes `data_dir` of container `id` to `file` as a zstd-compressed tar; returns
/// the file's sha256 (hex) and size.
pub async fn save(
    engine: &Engine,
    id: &str,
    data_dir: &str,
    file: &Path,
) -> anyhow::Result<(String, u64)> {
    let (sender, mut receiver) = mpsc::channel::<Bytes>(IN_FLIGHT);
    let path = file.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let out = HashingWriter::new(File::create(&path)?);
        let mut encoder = zstd::Encoder::new(out, LEVEL)?;
        while let Some(chunk) = receiver.blocking_recv() {
            encoder.write_all(&chunk)?;
        }
        let (file, digest, bytes) = encoder.finish()?.finish();
        file.sync_all()?;
        Ok((digest, bytes))
    });
    let mut tar = std::pin::pin!(engine.download_tar(id, data_dir.trim_end_matches('/')));
    let mut failed = None;
    while let Some(chunk) = tar.next().await {
        match chunk {
            Ok(chunk) => {
                if sender.send(chunk).await.is_err() {
                    // The writer stopped; its error says why.
                    break;
                }
            }
            Err(err) => {
                failed = Some(err);
                break;
            }
        }
    }
    drop(sender);
    let written = writer.await?;
    if let Some(err) = failed {
        anyhow::bail!("cannot read {data_dir} from the container: {err}");
    }
    written.map_err(|err| anyhow::anyhow!("cannot write {}: {err}", file.display()))
}

/// Unpacks the zstd-compressed tar `file` into the parent of `data_dir` in container
/// `id` (the tar's entries start with the data directory's own name).
pub async fn restore(engine: &Engine, id: &str, data_dir: &str, file: &Path) -> anyhow::Result<()> {
    let data_dir = data_dir.trim_end_matches('/');
    let parent = Path::new(data_dir)
        .parent()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|| "/".to_string());
    let (sender, receiver) = mpsc::channel::<Result<Bytes, std::io::Error>>(IN_FLIGHT);
    let path = file.to_path_buf();
    let reader = tokio::task::spawn_blocking(move || {
        let read = || -> std::io::Result<()> {
            let mut decoder = zstd::Decoder::new(File::open(&path)?)?;
            let mut buffer = vec![0u8; 1 << 20];
            loop {
                let n = decoder.read(&mut buffer)?;
                if n == 0 {
                    return Ok(());
                }
                if sender
                    .blocking_send(Ok(Bytes::copy_from_slice(&buffer[..n])))
                    .is_err()
                {
                    // The upload ended; its error says why.
                    return Ok(());
                }
            }
        };
        if let Err(err) = read() {
            let _ = sender.blocking_send(Err(err));
        }
    });
    let chunks = futures_util::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|chunk| (chunk, receiver))
    });
    let uploaded = engine.upload_tar_stream(id, &parent, chunks).await;
    reader.await?;
    uploaded.map_err(|err| anyhow::anyhow!("cannot unpack the data into {data_dir}: {err}"))
}
