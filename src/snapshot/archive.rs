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

use super::postgres_wal;
use super::store::HashingWriter;
use crate::engine::Engine;

/// zstd's default level: about as fast as the disk on save, and decompression
/// speed barely depends on it.
const LEVEL: i32 = 3;

/// Chunks in flight between the engine and the compressor.
const IN_FLIGHT: usize = 16;

/// Writes `data_dir` of container `id` (stopped) to `file` as a zstd-compressed
/// tar; returns the file's sha256 (hex) and size. A Postgres cluster's WAL that its
/// clean shutdown no longer needs is left out ([`postgres_wal`]).
pub async fn save(
    engine: &Engine,
    id: &str,
    data_dir: &str,
    file: &Path,
) -> anyhow::Result<(String, u64)> {
    let data_dir = data_dir.trim_end_matches('/');
    let checkpoint = read_small_file(
        engine,
        id,
        &format!("{data_dir}/{}", postgres_wal::CONTROL_FILE),
    )
    .await
    .and_then(|control| postgres_wal::clean_checkpoint(&control));
    let (sender, receiver) = mpsc::channel::<Bytes>(IN_FLIGHT);
    let path = file.to_path_buf();
    let writer = tokio::task::spawn_blocking(move || -> std::io::Result<(String, u64)> {
        let out = HashingWriter::new(File::create(&path)?);
        let mut encoder = zstd::Encoder::new(out, LEVEL)?;
        let mut tar = ChannelReader::new(receiver);
        match checkpoint {
            Some(checkpoint) => copy_needed(&mut tar, &mut encoder, |path, size| {
                checkpoint.needs(path, size)
            })?,
            None => {
                std::io::copy(&mut tar, &mut encoder)?;
            }
        }
        let (file, digest, bytes) = encoder.finish()?.finish();
        file.sync_all()?;
        Ok((digest, bytes))
    });
    let mut tar = std::pin::pin!(engine.download_tar(id, data_dir));
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

/// The bytes of one small file in a container, or `None` when it is not there.
async fn read_small_file(engine: &Engine, id: &str, path: &str) -> Option<Vec<u8>> {
    let mut tar = Vec::new();
    let mut chunks = std::pin::pin!(engine.download_tar(id, path));
    while let Some(chunk) = chunks.next().await {
        tar.extend_from_slice(&chunk.ok()?);
    }
    let mut archive = tar::Archive::new(tar.as_slice());
    let mut entry = archive.entries().ok()?.next()?.ok()?;
    let mut bytes = Vec::new();
    entry.read_to_end(&mut bytes).ok()?;
    Some(bytes)
}

/// Copies the tar `from` to `to` entry by entry, as they are (headers, PAX and GNU
/// extensions, data), leaving out the entries `needed(path, size)` rejects, with
/// the extensions that describe them.
fn copy_needed(
    from: &mut impl Read,
    to: &mut impl Write,
    needed: impl Fn(&Path, u64) -> bool,
) -> std::io::Result<()> {
    let mut archive = tar::Archive::new(from);
    // Extension entries waiting for the entry they describe.
    let mut extensions: Vec<u8> = Vec::new();
    for entry in archive.entries()?.raw(true) {
        let mut entry = entry?;
        let header = entry.header().clone();
        let kind = header.entry_type();
        let mut block = header.as_bytes().to_vec();
        let size = header.entry_size()?;
        if kind.is_pax_local_extensions() || kind.is_gnu_longname() || kind.is_gnu_longlink() {
            entry.read_to_end(&mut block)?;
            pad(&mut block);
            extensions.extend_from_slice(&block);
            continue;
        }
        // The name as written in the header is enough: only short, plain names
        // (pg_wal/ and its segments) are ever left out.
        let keep = kind.is_pax_global_extensions() || needed(&header.path()?, size);
        if keep {
            to.write_all(&extensions)?;
            to.write_all(&block)?;
            let copied = std::io::copy(&mut entry, to)?;
            to.write_all(&vec![0; padded(copied) - copied as usize])?;
        }
        extensions.clear();
    }
    // The end of the archive: two empty blocks.
    to.write_all(&[0; 1024])
}

/// A tar block's data is padded to a multiple of 512 bytes.
fn padded(len: u64) -> usize {
    (len as usize).div_ceil(512) * 512
}

fn pad(block: &mut Vec<u8>) {
    let data = block.len() - 512;
    block.resize(512 + padded(data as u64), 0);
}

/// The engine's tar stream as a [`Read`], on the blocking thread that compresses it.
struct ChannelReader {
    receiver: mpsc::Receiver<Bytes>,
    current: Bytes,
}

impl ChannelReader {
    fn new(receiver: mpsc::Receiver<Bytes>) -> Self {
        ChannelReader {
            receiver,
            current: Bytes::new(),
        }
    }
}

impl Read for ChannelReader {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        while self.current.is_empty() {
            match self.receiver.blocking_recv() {
                Some(chunk) => self.current = chunk,
                None => return Ok(0),
            }
        }
        let n = buf.len().min(self.current.len());
        buf[..n].copy_from_slice(&self.current.split_to(n));
        Ok(n)
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn tar_of(files: &[(&str, &[u8])]) -> Vec<u8> {
        let mut builder = tar::Builder::new(Vec::new());
        for (path, data) in files {
            let mut header = tar::Header::new_gnu();
            header.set_size(data.len() as u64);
            header.set_mode(0o600);
            header.set_uid(999);
            header.set_mtime(1_700_000_000);
            builder
                .append_data(&mut header, path, *data)
                .expect("append");
        }
        builder.into_inner().expect("tar")
    }

    /// Every entry of a tar: path, uid, mode and data.
    fn entries(tar: &[u8]) -> Vec<(String, u64, u32, Vec<u8>)> {
        let mut archive = tar::Archive::new(tar);
        archive
            .entries()
            .expect("entries")
            .map(|entry| {
                let mut entry = entry.expect("entry");
                let mut data = Vec::new();
                entry.read_to_end(&mut data).expect("data");
                let header = entry.header();
                (
                    entry.path().expect("path").display().to_string(),
                    header.uid().expect("uid"),
                    header.mode().expect("mode"),
                    data,
                )
            })
            .collect()
    }

    #[test]
    fn a_copy_leaves_out_what_is_not_needed_and_keeps_the_rest_as_it_was() {
        let long = format!("data/base/{}/file", "d".repeat(120));
        let odd = vec![7u8; 513];
        let tar = tar_of(&[
            ("data/PG_VERSION", b"15\n"),
            (
                &format!("data/{}/gone", "g".repeat(120)),
                b"long and unwanted",
            ),
            (&long, b"long and wanted"),
            ("data/pg_wal/gone", b"old wal"),
            ("data/odd", &odd),
        ]);
        let mut copy = Vec::new();
        copy_needed(&mut tar.as_slice(), &mut copy, |path, _| {
            !path.ends_with("gone") && !path.to_string_lossy().contains("gggg")
        })
        .expect("copy");
        let kept: Vec<_> = entries(&tar)
            .into_iter()
            .filter(|(path, ..)| !path.ends_with("gone"))
            .collect();
        assert_eq!(entries(&copy), kept);
        assert_eq!(kept.len(), 3);
        assert_eq!(copy.len() % 512, 0);
    }
}
