//! Bytes to text: BOMs, UTF-16, invalid UTF-8 and Windows-1252 input.

use super::IngestError;

/// Text decoded from a file, with a note when the decode was not clean UTF-8.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    /// The decoded text, NUL bytes removed and line endings normalised to `\n`.
    pub text: String,
    /// What was done to get there ("utf-16le", "windows-1252", ...).
    pub note: Option<String>,
}

/// Share of control bytes (other than tab, CR, LF, form feed) above which a
/// file is treated as binary.
const BINARY_CONTROL_SHARE: f64 = 0.10;

/// Decodes raw file bytes to text.
///
/// UTF-8 (with or without BOM) passes through; UTF-16 with a BOM is decoded;
/// invalid UTF-8 falls back to Windows-1252, which is what broken Indonesian
/// news scrapes usually are. Files that look binary are refused.
pub fn decode_bytes(bytes: &[u8]) -> Result<Decoded, IngestError> {
    let (text, note) = if let Some(rest) = bytes.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        decode_utf8_or_1252(rest, Some("utf-8 bom"))
    } else if bytes.starts_with(&[0xFF, 0xFE]) || bytes.starts_with(&[0xFE, 0xFF]) {
        let (enc, _) = encoding_rs::Encoding::for_bom(bytes).unwrap_or((encoding_rs::UTF_16LE, 2));
        let (cow, had_errors) = enc.decode_with_bom_removal(bytes);
        let note = if had_errors { format!("{} (lossy)", enc.name().to_lowercase()) } else { enc.name().to_lowercase() };
        (cow.into_owned(), Some(note))
    } else {
        if looks_binary(bytes) {
            return Err(IngestError::Binary);
        }
        decode_utf8_or_1252(bytes, None)
    };
    let had_nul = text.contains('\0');
    let mut text = if had_nul { text.replace('\0', "") } else { text };
    if text.contains('\r') {
        text = text.replace("\r\n", "\n").replace('\r', "\n");
    }
    let note = match (note, had_nul) {
        (Some(n), true) => Some(format!("{n}; nul bytes removed")),
        (None, true) => Some("nul bytes removed".to_string()),
        (n, false) => n,
    };
    Ok(Decoded { text, note })
}

fn decode_utf8_or_1252(bytes: &[u8], note: Option<&str>) -> (String, Option<String>) {
    match std::str::from_utf8(bytes) {
        Ok(s) => (s.to_string(), note.map(str::to_string)),
        Err(_) => {
            let (cow, _, _) = encoding_rs::WINDOWS_1252.decode(bytes);
            let n = match note {
                Some(n) => format!("{n}; invalid utf-8 decoded as windows-1252"),
                None => "invalid utf-8 decoded as windows-1252".to_string(),
            };
            (cow.into_owned(), Some(n))
        }
    }
}

/// True when the first kilobytes hold many control bytes (images, archives, executables).
fn looks_binary(bytes: &[u8]) -> bool {
    let head = &bytes[..bytes.len().min(8192)];
    if head.is_empty() {
        return false;
    }
    let controls = count_bytes(head, |b| b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r' | 0x0C));
    controls as f64 / head.len() as f64 > BINARY_CONTROL_SHARE
}

/// How many bytes of `bytes` satisfy `pred`. Summed as bytes over chunks of
/// 255, which the compiler turns into wide vector adds: this runs over every
/// file read, where a plain filtered count goes a byte at a time.
pub fn count_bytes(bytes: &[u8], pred: impl Fn(u8) -> bool) -> usize {
    bytes.chunks(255).map(|chunk| usize::from(chunk.iter().map(|&b| u8::from(pred(b))).sum::<u8>())).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_utf8_has_no_note() {
        let d = decode_bytes("Pemkab Lingga meraih penghargaan".as_bytes()).unwrap();
        assert_eq!(d.text, "Pemkab Lingga meraih penghargaan");
        assert_eq!(d.note, None);
    }

    #[test]
    fn bom_and_crlf_are_removed() {
        let d = decode_bytes(b"\xEF\xBB\xBFJudul\r\nIsi").unwrap();
        assert_eq!(d.text, "Judul\nIsi");
        assert_eq!(d.note.as_deref(), Some("utf-8 bom"));
    }

    #[test]
    fn utf16le_with_bom_is_decoded() {
        let mut bytes = vec![0xFF, 0xFE];
        for u in "Kota Palu".encode_utf16() {
            bytes.extend_from_slice(&u.to_le_bytes());
        }
        let d = decode_bytes(&bytes).unwrap();
        assert_eq!(d.text, "Kota Palu");
        assert_eq!(d.note.as_deref(), Some("utf-16le"));
    }

    #[test]
    fn windows_1252_falls_back() {
        let d = decode_bytes(b"Jum\x92at (1/10)").unwrap();
        assert_eq!(d.text, "Jum\u{2019}at (1/10)");
        assert!(d.note.unwrap().contains("windows-1252"));
    }

    #[test]
    fn binary_is_refused() {
        let bytes: Vec<u8> = (0..200u8).map(|i| i % 7).collect();
        assert!(matches!(decode_bytes(&bytes), Err(IngestError::Binary)));
    }

    #[test]
    fn sparse_nul_bytes_are_stripped() {
        let d = decode_bytes(b"Kota\0 Batam meraih penghargaan dari BKN hari ini").unwrap();
        assert_eq!(d.text, "Kota Batam meraih penghargaan dari BKN hari ini");
        assert!(d.note.unwrap().contains("nul"));
    }

    proptest::proptest! {
        #[test]
        fn count_bytes_is_a_filtered_count(bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..2000), pivot in proptest::prelude::any::<u8>()) {
            proptest::prop_assert_eq!(count_bytes(&bytes, |b| b < pivot), bytes.iter().filter(|&&b| b < pivot).count());
        }
    }

    #[test]
    fn count_bytes_counts_long_runs_of_matches() {
        // Every byte matches: no chunk's byte-sized sum may overflow.
        for n in [0, 1, 254, 255, 256, 510, 511, 10_000] {
            assert_eq!(count_bytes(&vec![b'<'; n], |b| b == b'<'), n);
        }
    }
}
