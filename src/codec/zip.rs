//! Zip archives: members read whole or as streams under a cap on the bytes actually
//! inflated, unsafe member names refused; and a deflate writer.

use std::io::{BufRead, Cursor, Read, Write as _};

use super::CodecError;

/// Why a member name is unsafe to honour, if it is.
fn unsafe_member_name(name: &str) -> Option<&'static str> {
    let b = name.as_bytes();
    if name.is_empty() {
        Some("empty member name")
    } else if name.contains('\0') {
        Some("member name contains NUL")
    } else if b[0] == b'/' || b[0] == b'\\' {
        Some("absolute member path")
    } else if b.len() >= 2 && b[1] == b':' && b[0].is_ascii_alphabetic() {
        Some("member path has a drive letter")
    } else if name.split(['/', '\\']).any(|c| c == "..") {
        Some("member path contains `..`")
    } else {
        None
    }
}

/// Reads a zip archive into `(name, bytes)` members in archive order.
/// Directory entries are skipped. At most `max_total` bytes are decompressed
/// across all members; going over is an error.
pub fn read_zip(body: &[u8], max_total: u64) -> Result<Vec<(String, Vec<u8>)>, CodecError> {
    let mut members = Vec::new();
    for_each_zip_member(body, max_total, &mut |name, data| {
        let mut bytes = Vec::new();
        data.read_to_end(&mut bytes)
            .map_err(|e| CodecError::new("zip", e.to_string(), format!("member {name}")))?;
        members.push((name.to_string(), bytes));
        Ok(())
    })?;
    Ok(members)
}

/// Hands each member of an archive to `f` as a stream, in archive order, with the same
/// checks as [`read_zip`]. The uncompressed-size limit is enforced on the bytes `f`
/// actually reads: reading past it fails with an I/O error naming the limit.
pub fn for_each_zip_member(
    body: &[u8],
    max_total: u64,
    f: &mut dyn FnMut(&str, &mut dyn BufRead) -> Result<(), CodecError>,
) -> Result<(), CodecError> {
    let zerr = |message: String, location: String| CodecError::new("zip", message, location);
    let mut archive = zip::ZipArchive::new(Cursor::new(body))
        .map_err(|e| zerr(e.to_string(), "central directory".into()))?;
    let mut total: u64 = 0;
    for i in 0..archive.len() {
        let (name, is_dir) = {
            let raw = archive
                .by_index_raw(i)
                .map_err(|e| zerr(e.to_string(), format!("member #{}", i + 1)))?;
            let name = raw.name().to_owned();
            if raw.encrypted() {
                return Err(zerr(
                    "encrypted members are not supported".into(),
                    format!("member {name}"),
                ));
            }
            (name, raw.is_dir())
        };
        if let Some(why) = unsafe_member_name(&name) {
            return Err(zerr(why.into(), format!("member {name}")));
        }
        if is_dir {
            continue;
        }
        let mut file = archive
            .by_index(i)
            .map_err(|e| zerr(e.to_string(), format!("member {name}")))?;
        // The header's size is never trusted: the limit counts bytes actually inflated.
        let mut limited = Limit {
            inner: &mut file,
            left: max_total - total,
            max_total,
        };
        let mut buffered = std::io::BufReader::with_capacity(64 << 10, &mut limited);
        f(&name, &mut buffered)?;
        drop(buffered);
        total = max_total - limited.left;
    }
    Ok(())
}

/// A reader that fails once more than `left` bytes have been read through it.
struct Limit<R> {
    inner: R,
    left: u64,
    max_total: u64,
}

impl<R: Read> Read for Limit<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        // Ask for one byte beyond the limit so that crossing it is seen.
        let want = buf.len().min(self.left.saturating_add(1) as usize);
        let n = self.inner.read(&mut buf[..want])?;
        if n as u64 > self.left {
            return Err(std::io::Error::other(format!(
                "uncompressed size exceeds the limit of {} bytes",
                self.max_total
            )));
        }
        self.left -= n as u64;
        Ok(n)
    }
}

/// Writes members into a deflate-compressed zip archive. A member whose name
/// was already written is skipped (zip archives cannot hold duplicates).
pub fn write_zip(members: &[(String, Vec<u8>)]) -> Vec<u8> {
    use zip::write::SimpleFileOptions;
    let mut writer = zip::ZipWriter::new(Cursor::new(Vec::new()));
    let mut seen = std::collections::HashSet::with_capacity(members.len());
    for (name, data) in members {
        if !seen.insert(name.as_str()) {
            continue;
        }
        let options = SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Deflated)
            .large_file(data.len() as u64 >= u32::MAX as u64);
        // Writing to an in-memory cursor cannot fail, and names are unique.
        writer
            .start_file(name.as_str(), options)
            .expect("zip member header");
        writer.write_all(data).expect("zip member data");
    }
    writer.finish().expect("zip central directory").into_inner()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zip_round_trip() {
        let members = vec![
            ("routes.csv".to_string(), b"a,b\n1,2\n".to_vec()),
            ("dir/trunks.json".to_string(), b"{}".to_vec()),
            ("routes.csv".to_string(), b"dropped".to_vec()),
        ];
        let archive = write_zip(&members);
        let back = read_zip(&archive, 1 << 20).unwrap();
        assert_eq!(back, members[..2].to_vec());
    }

    #[test]
    fn zip_bomb_is_rejected_while_reading() {
        let archive = write_zip(&[("zeros.bin".to_string(), vec![0u8; 1 << 20])]);
        assert!(archive.len() < 10_000, "deflate should shrink zeros");
        let e = read_zip(&archive, 100_000).unwrap_err();
        assert_eq!(e.location, "member zeros.bin");
        assert!(e.message.contains("limit"), "{e}");
        // The limit is on the total, across members.
        let two = write_zip(&[("a".into(), vec![1; 600]), ("b".into(), vec![2; 600])]);
        assert!(read_zip(&two, 1200).is_ok());
        assert_eq!(read_zip(&two, 1199).unwrap_err().location, "member b");
    }

    #[test]
    fn zip_bomb_with_lying_header_is_rejected() {
        // Patch the declared uncompressed sizes down to 1: the limit must
        // still hold because it counts bytes actually produced.
        let mut archive = write_zip(&[("z".to_string(), vec![0u8; 1 << 20])]);
        let size = (1u32 << 20).to_le_bytes();
        let mut i = 0;
        while let Some(p) = archive[i..].windows(4).position(|w| w == size) {
            archive[i + p..i + p + 4].copy_from_slice(&1u32.to_le_bytes());
            i += p + 4;
        }
        assert!(i > 0, "no size field patched");
        let e = read_zip(&archive, 1000).unwrap_err();
        assert!(e.message.contains("limit"), "{e}");
    }

    #[test]
    fn zip_rejects_unsafe_names_and_garbage() {
        for bad in ["../etc/passwd", "a/../../b", "/abs", "C:/win", "a\\..\\b"] {
            let archive = write_zip(&[(bad.to_string(), b"x".to_vec())]);
            let e = read_zip(&archive, 1000).expect_err(bad);
            assert_eq!(e.location, format!("member {bad}"));
        }
        let e = read_zip(b"not a zip at all", 1000).unwrap_err();
        assert_eq!(
            (e.format, e.location.as_str()),
            ("zip", "central directory")
        );
    }

    #[test]
    fn zip_rejects_encrypted_members() {
        let mut archive = write_zip(&[("secret".to_string(), b"x".to_vec())]);
        // Set bit 0 (encrypted) of the general-purpose flags in both the local
        // header (offset 6) and the central directory header (offset 8).
        let local = archive.windows(4).position(|w| w == b"PK\x03\x04").unwrap();
        archive[local + 6] |= 1;
        let central = archive.windows(4).position(|w| w == b"PK\x01\x02").unwrap();
        archive[central + 8] |= 1;
        let e = read_zip(&archive, 1000).unwrap_err();
        assert!(e.message.contains("encrypted"), "{e}");
    }
}
