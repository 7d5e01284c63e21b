//! A zip archive written while it is sent: stored (uncompressed, as Immich's are) entries with
//! data descriptors, so no entry needs to be read twice and nothing is assembled in memory or
//! on disk. ZIP64 records appear where sizes or offsets pass 4 GiB.

use std::path::PathBuf;
use std::time::SystemTime;

use bytes::{BufMut, Bytes, BytesMut};
use chrono::{DateTime, Datelike, Timelike, Utc};
use futures::Stream;
use tokio::io::AsyncReadExt;
use tokio::sync::mpsc;

pub struct ZipEntry {
    pub name: String,
    pub path: PathBuf,
}

const CHUNK: usize = 64 * 1024;
const LIMIT_32: u64 = 0xFFFF_FFFF;

struct Written {
    name: Vec<u8>,
    crc: u32,
    size: u64,
    offset: u64,
    dos_time: u16,
    dos_date: u16,
}

fn dos_date_time(time: SystemTime) -> (u16, u16) {
    let date: DateTime<Utc> = time.into();
    let year = date.year().clamp(1980, 2107) as u16;
    let dos_time = ((date.hour() as u16) << 11) | ((date.minute() as u16) << 5) | (date.second() as u16 / 2);
    let dos_date = ((year - 1980) << 9) | ((date.month() as u16) << 5) | date.day() as u16;
    (dos_time, dos_date)
}

fn local_header(entry: &Written) -> Bytes {
    let mut out = BytesMut::with_capacity(30 + entry.name.len());
    out.put_u32_le(0x0403_4b50);
    out.put_u16_le(45); // version needed: ZIP64-capable
    out.put_u16_le(0x0808); // sizes follow in a data descriptor; names are UTF-8
    out.put_u16_le(0); // stored
    out.put_u16_le(entry.dos_time);
    out.put_u16_le(entry.dos_date);
    out.put_u32_le(0);
    out.put_u32_le(0);
    out.put_u32_le(0);
    out.put_u16_le(entry.name.len() as u16);
    out.put_u16_le(0);
    out.put_slice(&entry.name);
    out.freeze()
}

fn data_descriptor(entry: &Written) -> Bytes {
    let mut out = BytesMut::with_capacity(24);
    out.put_u32_le(0x0807_4b50);
    out.put_u32_le(entry.crc);
    if entry.size >= LIMIT_32 {
        out.put_u64_le(entry.size);
        out.put_u64_le(entry.size);
    } else {
        out.put_u32_le(entry.size as u32);
        out.put_u32_le(entry.size as u32);
    }
    out.freeze()
}

fn central_directory(entries: &[Written], start: u64) -> Bytes {
    let mut out = BytesMut::new();
    for entry in entries {
        let mut extra = BytesMut::new();
        if entry.size >= LIMIT_32 {
            extra.put_u64_le(entry.size);
            extra.put_u64_le(entry.size);
        }
        if entry.offset >= LIMIT_32 {
            extra.put_u64_le(entry.offset);
        }
        let clamp = |value: u64| value.min(LIMIT_32) as u32;
        out.put_u32_le(0x0201_4b50);
        out.put_u16_le((3 << 8) | 45); // made by Unix
        out.put_u16_le(45);
        out.put_u16_le(0x0808);
        out.put_u16_le(0);
        out.put_u16_le(entry.dos_time);
        out.put_u16_le(entry.dos_date);
        out.put_u32_le(entry.crc);
        out.put_u32_le(clamp(entry.size));
        out.put_u32_le(clamp(entry.size));
        out.put_u16_le(entry.name.len() as u16);
        out.put_u16_le(if extra.is_empty() { 0 } else { extra.len() as u16 + 4 });
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u16_le(0);
        out.put_u32_le(0o100644 << 16); // a regular file, rw-r--r--
        out.put_u32_le(clamp(entry.offset));
        out.put_slice(&entry.name);
        if !extra.is_empty() {
            out.put_u16_le(0x0001);
            out.put_u16_le(extra.len() as u16);
            out.put_slice(&extra);
        }
    }
    let size = out.len() as u64;
    let count = entries.len() as u64;
    if count >= 0xFFFF || size >= LIMIT_32 || start >= LIMIT_32 {
        let zip64_end = start + size;
        out.put_u32_le(0x0606_4b50);
        out.put_u64_le(44);
        out.put_u16_le((3 << 8) | 45);
        out.put_u16_le(45);
        out.put_u32_le(0);
        out.put_u32_le(0);
        out.put_u64_le(count);
        out.put_u64_le(count);
        out.put_u64_le(size);
        out.put_u64_le(start);
        out.put_u32_le(0x0706_4b50);
        out.put_u32_le(0);
        out.put_u64_le(zip64_end);
        out.put_u32_le(1);
    }
    out.put_u32_le(0x0605_4b50);
    out.put_u16_le(0);
    out.put_u16_le(0);
    out.put_u16_le(count.min(0xFFFF) as u16);
    out.put_u16_le(count.min(0xFFFF) as u16);
    out.put_u32_le(size.min(LIMIT_32) as u32);
    out.put_u32_le(start.min(LIMIT_32) as u32);
    out.put_u16_le(0);
    out.freeze()
}

/// Streams `entries` as a zip. A file that cannot be opened is left out (as Immich does); a
/// read error part-way ends the stream with that error, so the client sees a broken download
/// rather than a silently short file.
pub fn stream(entries: Vec<ZipEntry>) -> impl Stream<Item = std::io::Result<Bytes>> {
    // Four chunks in flight at most: a slow client slows the reading, memory stays flat.
    let (sender, receiver) = mpsc::channel::<std::io::Result<Bytes>>(4);
    tokio::spawn(async move {
        let mut written = Vec::new();
        let mut offset = 0u64;
        for entry in entries {
            let Ok(mut file) = tokio::fs::File::open(&entry.path).await else {
                tracing::warn!(path = %entry.path.display(), "left a missing file out of a download");
                continue;
            };
            let modified = file
                .metadata()
                .await
                .and_then(|m| m.modified())
                .unwrap_or(SystemTime::UNIX_EPOCH);
            let (dos_time, dos_date) = dos_date_time(modified);
            let mut record = Written {
                name: entry.name.into_bytes(),
                crc: 0,
                size: 0,
                offset,
                dos_time,
                dos_date,
            };
            let header = local_header(&record);
            offset += header.len() as u64;
            if sender.send(Ok(header)).await.is_err() {
                return; // the client went away
            }
            let mut hasher = crc32fast::Hasher::new();
            loop {
                let mut buffer = vec![0u8; CHUNK];
                match file.read(&mut buffer).await {
                    Ok(0) => break,
                    Ok(n) => {
                        buffer.truncate(n);
                        hasher.update(&buffer);
                        record.size += n as u64;
                        if sender.send(Ok(Bytes::from(buffer))).await.is_err() {
                            return;
                        }
                    }
                    Err(error) => {
                        let _ = sender.send(Err(error)).await;
                        return;
                    }
                }
            }
            offset += record.size;
            record.crc = hasher.finalize();
            let descriptor = data_descriptor(&record);
            offset += descriptor.len() as u64;
            if sender.send(Ok(descriptor)).await.is_err() {
                return;
            }
            written.push(record);
        }
        let _ = sender.send(Ok(central_directory(&written, offset))).await;
    });
    futures::stream::unfold(receiver, |mut receiver| async move {
        receiver.recv().await.map(|item| (item, receiver))
    })
}

/// Names as Immich's archives have them: unsafe characters dropped, then `name+1.ext`,
/// `name+2.ext` for repeats.
pub fn entry_names(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut seen: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    names
        .into_iter()
        .map(|name| {
            let clean = sanitize(&name);
            let count = seen.entry(clean.clone()).or_insert(0);
            let result = if *count == 0 {
                clean.clone()
            } else {
                match clean.rfind('.').filter(|&dot| dot > 0) {
                    Some(dot) => format!("{}+{count}{}", &clean[..dot], &clean[dot..]),
                    None => format!("{clean}+{count}"),
                }
            };
            *count += 1;
            result
        })
        .collect()
}

fn sanitize(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .filter(|c| !"/?<>\\:*|\"".contains(*c) && !c.is_control())
        .collect();
    let trimmed = cleaned.trim_end_matches(['.', ' ']);
    let reserved = {
        let stem = trimmed.split('.').next().unwrap_or("").to_ascii_lowercase();
        matches!(stem.as_str(), "con" | "prn" | "aux" | "nul")
            || (stem.len() == 4
                && (stem.starts_with("com") || stem.starts_with("lpt"))
                && stem.as_bytes()[3].is_ascii_digit())
    };
    if trimmed.is_empty() || trimmed.chars().all(|c| c == '.') || reserved {
        "unnamed".to_string()
    } else {
        trimmed.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_names_are_numbered_like_immich() {
        let names = entry_names(["a.jpg", "a.jpg", "a.jpg", "b/c.png", "..", "noext", "noext"].map(String::from));
        assert_eq!(
            names,
            ["a.jpg", "a+1.jpg", "a+2.jpg", "bc.png", "unnamed", "noext", "noext+1"]
        );
    }
}
