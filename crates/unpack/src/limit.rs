//! A reader that fails, rather than truncates, past a byte limit.

use std::io::{self, Read};

/// Reading went past a configured cap.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("decompressed payload exceeds the limit of {limit} bytes")]
pub struct LimitExceeded {
    pub limit: u64,
}

/// Finds a [`LimitExceeded`] anywhere in an error's chain (it travels inside `io::Error`s).
pub fn limit_exceeded(error: &(dyn std::error::Error + 'static)) -> Option<LimitExceeded> {
    let mut next = Some(error);
    while let Some(e) = next {
        if let Some(l) = e.downcast_ref::<LimitExceeded>() {
            return Some(*l);
        }
        let inner = e
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref)
            .or_else(|| {
                e.downcast_ref::<std::sync::Arc<io::Error>>()
                    .and_then(|io| io.get_ref())
            });
        if let Some(l) = inner.and_then(|i| i.downcast_ref::<LimitExceeded>()) {
            return Some(*l);
        }
        next = e.source();
    }
    None
}

#[derive(Debug)]
pub(crate) struct Limited<R> {
    inner: R,
    remaining: u64,
    limit: u64,
}

impl<R: Read> Limited<R> {
    pub(crate) fn new(inner: R, limit: u64) -> Self {
        Self {
            inner,
            remaining: limit,
            limit,
        }
    }
}

impl<R: Read> Read for Limited<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.remaining == 0 {
            // One more byte tells a payload of exactly `limit` bytes from a larger one.
            let mut probe = [0u8; 1];
            return match self.inner.read(&mut probe)? {
                0 => Ok(0),
                _ => Err(io::Error::other(LimitExceeded { limit: self.limit })),
            };
        }
        let max = buf
            .len()
            .min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
        let n = self.inner.read(&mut buf[..max])?;
        self.remaining -= n as u64;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_size_passes_and_one_more_byte_fails() {
        let mut ok = Vec::new();
        Limited::new(&b"12345"[..], 5)
            .read_to_end(&mut ok)
            .expect("fits");
        assert_eq!(ok, b"12345");
        let err = Limited::new(&b"123456"[..], 5)
            .read_to_end(&mut Vec::new())
            .expect_err("cap");
        assert_eq!(limit_exceeded(&err), Some(LimitExceeded { limit: 5 }));
    }
}
