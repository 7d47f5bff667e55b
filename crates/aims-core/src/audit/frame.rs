//! Record framing in the records file: `[length u32 LE][crc32c u32 LE][payload][tag]`.
//!
//! The length counts the payload only; the 16-byte tag after it is the writer's MAC of the
//! record (see `tail`), which lets the writer authenticate records no signed checkpoint
//! covers yet. The CRC (Castagnoli, over payload and tag) catches torn and damaged writes;
//! it is not a security measure (the Merkle tree, the signed checkpoint and the tag are).

use std::io::{self, Read};

/// Bytes before each payload: length then CRC.
pub const HEADER_LEN: u64 = 8;

/// Bytes of the tag after each payload.
pub const TAG_LEN: usize = 16;

/// A record's tag: the truncated HMAC-SHA256 of its leaf hash with the writer's tail key.
pub type Tag = [u8; TAG_LEN];

/// The bytes a payload of `payload_len` bytes occupies in the file, header and tag included.
pub fn framed_len(payload_len: usize) -> u64 {
    HEADER_LEN + payload_len as u64 + TAG_LEN as u64
}

/// The largest payload the reader accepts. Larger lengths are damage, not records.
pub const MAX_PAYLOAD: u32 = 16 * 1024 * 1024;

/// Appends one framed payload with its tag to `out`.
pub fn encode(payload: &[u8], tag: &Tag, out: &mut Vec<u8>) {
    // Payloads are canonical JSON of one event, far below MAX_PAYLOAD; the writer checks.
    let len = payload.len() as u32;
    let crc = crc32c::crc32c_append(crc32c::crc32c(payload), tag);
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc.to_le_bytes());
    out.extend_from_slice(payload);
    out.extend_from_slice(tag);
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
}

impl FrameError {
    /// Where the frame starts in the stream.
    pub fn offset(&self) -> u64 {
        match self {
            Self::Truncated { offset, .. }
            | Self::BadLength { offset, .. }
            | Self::BadCrc { offset, .. } => *offset,
        }
    }
}

/// Where one whole frame sits in a [`BlockReader`]'s block.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Located {
    /// The frame's offset in the stream.
    pub offset: u64,
    /// The payload's range in the block (the tag follows it).
    pub payload: (usize, usize),
    /// The CRC its header claims (not checked yet: checking is the caller's, so it can be
    /// spread over threads with the hashing).
    pub stored_crc: u32,
}

impl Located {
    /// The payload's bytes in `block`.
    pub fn payload<'a>(&self, block: &'a [u8]) -> &'a [u8] {
        &block[self.payload.0..self.payload.1]
    }

    /// The payload and the tag after it: the bytes the CRC covers.
    pub fn body<'a>(&self, block: &'a [u8]) -> &'a [u8] {
        &block[self.payload.0..self.payload.1 + TAG_LEN]
    }

    /// The record's tag.
    pub fn tag(&self, block: &[u8]) -> Tag {
        let mut tag = [0; TAG_LEN];
        tag.copy_from_slice(&block[self.payload.1..self.payload.1 + TAG_LEN]);
        tag
    }

    /// The offset just past the frame in the stream.
    pub fn end_offset(&self) -> u64 {
        self.offset + framed_len(self.payload.1 - self.payload.0)
    }
}

/// Reads a stream in large blocks of whole frames, locating each frame's payload by its
/// length header, so the frames of one block can be checked and hashed in parallel. A frame
/// larger than the block grows the buffer to hold it.
#[derive(Debug)]
pub struct BlockReader<R> {
    reader: R,
    buf: Vec<u8>,
    filled: usize,
    /// Bytes of `buf` that belong to the frames handed out.
    consumed: usize,
    /// The stream offset of `buf[0]`.
    base: u64,
    eof: bool,
    frames: Vec<Located>,
    stop: Option<FrameError>,
}

impl<R: Read> BlockReader<R> {
    /// A reader positioned at the start of the records, reading `block_bytes` at a time.
    pub fn new(reader: R, block_bytes: usize) -> Self {
        Self {
            reader,
            buf: vec![0; block_bytes.max(HEADER_LEN as usize)],
            filled: 0,
            consumed: 0,
            base: 0,
            eof: false,
            frames: Vec::new(),
            stop: None,
        }
    }

    /// Locates the next block of whole frames. Returns false at a clean end of the stream,
    /// or once a frame could not be located (see [`Self::stop`]) and every frame before it
    /// was handed out.
    pub fn next_block(&mut self) -> io::Result<bool> {
        self.frames.clear();
        if self.stop.is_some() {
            return Ok(false);
        }
        loop {
            self.buf.copy_within(self.consumed..self.filled, 0);
            self.base += self.consumed as u64;
            self.filled -= self.consumed;
            self.consumed = 0;
            if !self.eof {
                let got = read_full(&mut self.reader, &mut self.buf[self.filled..])?;
                self.filled += got;
                self.eof = self.filled < self.buf.len();
            }
            self.locate();
            if !self.frames.is_empty() || self.stop.is_some() || self.filled == 0 {
                return Ok(!self.frames.is_empty());
            }
        }
    }

    /// Locates whole frames in the buffer, from its start.
    fn locate(&mut self) {
        let mut at = 0;
        loop {
            let left = self.filled - at;
            let offset = self.base + at as u64;
            if left < HEADER_LEN as usize {
                if self.eof && left > 0 {
                    self.stop = Some(FrameError::Truncated {
                        offset,
                        needed: HEADER_LEN,
                        available: left as u64,
                    });
                }
                break;
            }
            let header = &self.buf[at..at + HEADER_LEN as usize];
            let length = u32::from_le_bytes([header[0], header[1], header[2], header[3]]);
            let stored_crc = u32::from_le_bytes([header[4], header[5], header[6], header[7]]);
            if length == 0 || length > MAX_PAYLOAD {
                self.stop = Some(FrameError::BadLength { offset, length });
                break;
            }
            let needed = framed_len(length as usize) as usize;
            if left < needed {
                if self.eof {
                    self.stop = Some(FrameError::Truncated {
                        offset,
                        needed: needed as u64,
                        available: left as u64,
                    });
                } else if needed > self.buf.len() {
                    self.buf.resize(needed, 0);
                }
                break;
            }
            let start = at + HEADER_LEN as usize;
            self.frames.push(Located {
                offset,
                payload: (start, start + length as usize),
                stored_crc,
            });
            at += needed;
        }
        self.consumed = at;
    }

    /// The block's bytes; [`Located::payload`] indexes into them.
    pub fn block(&self) -> &[u8] {
        &self.buf[..self.filled]
    }

    /// The frames of the current block, in order.
    pub fn frames(&self) -> &[Located] {
        &self.frames
    }

    /// Why the frame after the last one handed out could not be located (cut short, or an
    /// impossible length), once the reader got there.
    pub fn stop(&self) -> Option<&FrameError> {
        self.stop.as_ref()
    }

    /// True when every byte of the stream from `offset` on is zero (or none is left): what a
    /// crash leaves behind an interrupted append, never a record. `offset` must lie in the
    /// current block or at its end.
    pub fn rest_is_zero_from(&mut self, offset: u64) -> io::Result<bool> {
        let from = usize::try_from(offset.saturating_sub(self.base))
            .unwrap_or(usize::MAX)
            .min(self.filled);
        if self.buf[from..self.filled].iter().any(|byte| *byte != 0) {
            return Ok(false);
        }
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
            encode(payload, &[7; TAG_LEN], &mut out);
        }
        out
    }

    /// Every frame, or the reason the reader stopped, reading `block` bytes at a time.
    fn read_all(bytes: &[u8], block: usize) -> (Vec<(u64, Vec<u8>)>, Option<String>) {
        let mut reader = BlockReader::new(bytes, block);
        let mut out = Vec::new();
        while reader.next_block().unwrap() {
            for frame in reader.frames() {
                let payload = frame.payload(reader.block());
                assert_eq!(crc32c::crc32c(frame.body(reader.block())), frame.stored_crc);
                assert_eq!(frame.tag(reader.block()), [7; TAG_LEN]);
                out.push((frame.offset, payload.to_vec()));
            }
        }
        (out, reader.stop().map(ToString::to_string))
    }

    #[test]
    fn reads_back_what_was_framed_whatever_the_block_size() {
        let bytes = frames(&[b"one", b"two two", b"three"]);
        let mut body = b"one".to_vec();
        body.extend_from_slice(&[7; TAG_LEN]);
        let mut header = vec![3, 0, 0, 0];
        header.extend_from_slice(&crc32c::crc32c(&body).to_le_bytes());
        assert_eq!(&bytes[..8], &header[..], "LE payload length, LE crc32c");
        assert_eq!(&bytes[8..27], &body[..], "payload, then tag");
        let expected = vec![
            (0, b"one".to_vec()),
            (27, b"two two".to_vec()),
            (58, b"three".to_vec()),
        ];
        // 1 byte: every frame outgrows the block; 12: frames straddle block ends.
        for block in [1, 12, 20, 1 << 20] {
            assert_eq!(
                read_all(&bytes, block),
                (expected.clone(), None),
                "block {block}"
            );
        }
    }

    #[test]
    fn reports_truncation_and_bad_length_at_the_frame_offset() {
        let bytes = frames(&[b"one", b"two"]);
        for block in [4, 1 << 16] {
            let (read, stop) = read_all(&bytes[..bytes.len() - 1], block);
            assert_eq!(read.len(), 1);
            assert_eq!(
                stop.as_deref(),
                Some("the frame at byte 27 is cut short: 27 bytes needed, 26 left")
            );
            let (read, stop) = read_all(&bytes[..30], block);
            assert_eq!(read.len(), 1);
            assert_eq!(
                stop.as_deref(),
                Some("the frame at byte 27 is cut short: 8 bytes needed, 3 left")
            );
        }

        let zeros = [0u8; 20];
        let mut reader = BlockReader::new(&zeros[..], 8);
        assert!(!reader.next_block().unwrap());
        assert!(matches!(
            reader.stop(),
            Some(FrameError::BadLength {
                offset: 0,
                length: 0
            })
        ));
        assert!(reader.rest_is_zero_from(HEADER_LEN).unwrap());
        let mut tail = zeros.to_vec();
        tail[19] = 1;
        let mut reader = BlockReader::new(&tail[..], 8);
        assert!(!reader.next_block().unwrap());
        assert!(!reader.rest_is_zero_from(HEADER_LEN).unwrap());
    }
}
