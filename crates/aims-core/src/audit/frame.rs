//! Record framing in the records file: `[length u32 LE][crc32c u32 LE][payload]`.
//!
//! The CRC (Castagnoli, over the payload only) catches torn and damaged writes; it is not a
//! security measure (the Merkle tree and the signed checkpoint are).

use std::io::{self, Read};

/// Bytes before each payload: length then CRC.
pub const HEADER_LEN: u64 = 8;

/// The largest payload the reader accepts. Larger lengths are damage, not records.
pub const MAX_PAYLOAD: u32 = 16 * 1024 * 1024;

/// Appends one framed payload to `out`.
pub fn encode(payload: &[u8], out: &mut Vec<u8>) {
    // Payloads are canonical JSON of one event, far below MAX_PAYLOAD; the writer checks.
    let len = payload.len() as u32;
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
}

/// Why the frame at `offset` could not be read.
#[derive(Debug, thiserror::Error)]
pub enum FrameError {
    /// The file ends inside the frame.
    #[error("the frame at byte {offset} is cut short: {needed} bytes needed, {available} left")]
    Truncated {
        /// Where the frame starts.
        offset: u64,
        /// Bytes the frame needs from its start.
        needed: u64,
        /// Bytes the file has from the frame's start.
        available: u64,
    },
    /// The length field is zero or above [`MAX_PAYLOAD`].
    #[error("the frame at byte {offset} has an impossible length {length}")]
    BadLength {
        /// Where the frame starts.
        offset: u64,
        /// The length field.
        length: u32,
    },
    /// The payload does not match its CRC.
    #[error(
        "the frame at byte {offset} fails its CRC (stored {stored:08x}, computed {computed:08x})"
    )]
    BadCrc {
        /// Where the frame starts.
        offset: u64,
        /// The CRC in the header.
        stored: u32,
        /// The CRC of the payload as read.
        computed: u32,
    },
    /// Reading failed.
    #[error("reading the records file failed: {0}")]
    Io(#[from] io::Error),
}

/// Reads frames one after the other from a stream, reusing one payload buffer.
#[derive(Debug)]
pub struct FrameReader<R> {
    reader: R,
    offset: u64,
    payload: Vec<u8>,
}

impl<R: Read> FrameReader<R> {
    /// A reader positioned at the start of the records.
    pub fn new(reader: R) -> Self {
        Self {
            reader,
            offset: 0,
            payload: Vec::with_capacity(1024),
        }
    }

    /// The offset of the next frame (after an error: of the frame that failed).
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// The next payload, `None` at a clean end of file.
    pub fn next_frame(&mut self) -> Result<Option<&[u8]>, FrameError> {
        let mut header = [0u8; HEADER_LEN as usize];
        let got = read_full(&mut self.reader, &mut header)?;
        if got == 0 {
            return Ok(None);
        }
        if got < header.len() {
            return Err(FrameError::Truncated {
                offset: self.offset,
                needed: HEADER_LEN,
                available: got as u64,
            });
        }
        let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
        let stored = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
        if length == 0 || length > MAX_PAYLOAD {
            return Err(FrameError::BadLength {
                offset: self.offset,
                length,
            });
        }
        self.payload.resize(length as usize, 0);
        let got = read_full(&mut self.reader, &mut self.payload)?;
        if got < self.payload.len() {
            return Err(FrameError::Truncated {
                offset: self.offset,
                needed: HEADER_LEN + u64::from(length),
                available: HEADER_LEN + got as u64,
            });
        }
        let computed = crc32c::crc32c(&self.payload);
        if computed != stored {
            return Err(FrameError::BadCrc {
                offset: self.offset,
                stored,
                computed,
            });
        }
        self.offset += HEADER_LEN + u64::from(length);
        Ok(Some(&self.payload))
    }

    /// After a failed frame: true when every byte left in the stream is zero (or none is
    /// left), which is what a crash leaves behind an interrupted append, never a record.
    pub fn rest_is_zero(&mut self) -> io::Result<bool> {
        let mut chunk = [0u8; 64 * 1024];
        loop {
            let got = self.reader.read(&mut chunk)?;
            if got == 0 {
                return Ok(true);
            }
            if chunk[..got].iter().any(|byte| *byte != 0) {
                return Ok(false);
            }
        }
    }
}

/// Reads until `buf` is full or the stream ends; returns the bytes read.
fn read_full(reader: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut filled = 0;
    while filled < buf.len() {
        match reader.read(&mut buf[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    Ok(filled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames(payloads: &[&[u8]]) -> Vec<u8> {
        let mut out = Vec::new();
        for payload in payloads {
            encode(payload, &mut out);
        }
        out
    }

    #[test]
    fn reads_back_what_was_framed() {
        let bytes = frames(&[b"one", b"two two"]);
        assert_eq!(
            &bytes[..8],
            &[3, 0, 0, 0, 0xe9, 0xb2, 0x94, 0x2a][..],
            "LE length, LE crc32c"
        );
        let mut reader = FrameReader::new(&bytes[..]);
        assert_eq!(reader.next_frame().unwrap(), Some(&b"one"[..]));
        assert_eq!(reader.offset(), 11);
        assert_eq!(reader.next_frame().unwrap(), Some(&b"two two"[..]));
        assert!(reader.next_frame().unwrap().is_none());
    }

    #[test]
    fn reports_truncation_bad_length_and_bad_crc_at_the_frame_offset() {
        let bytes = frames(&[b"one", b"two"]);
        let mut reader = FrameReader::new(&bytes[..bytes.len() - 1]);
        reader.next_frame().unwrap();
        assert!(matches!(
            reader.next_frame(),
            Err(FrameError::Truncated {
                offset: 11,
                needed: 11,
                available: 10
            })
        ));

        let mut damaged = bytes.clone();
        damaged[9] ^= 1;
        let mut reader = FrameReader::new(&damaged[..]);
        assert!(matches!(
            reader.next_frame(),
            Err(FrameError::BadCrc { offset: 0, .. })
        ));

        let zeros = [0u8; 20];
        let mut reader = FrameReader::new(&zeros[..]);
        assert!(matches!(
            reader.next_frame(),
            Err(FrameError::BadLength {
                offset: 0,
                length: 0
            })
        ));
        assert!(reader.rest_is_zero().unwrap());
    }
}
