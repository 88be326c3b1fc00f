//! `Range: bytes=…` (RFC 9110 §14): one range, or the whole object. Several ranges are
//! answered whole (allowed by the RFC, and nothing DocuVault serves needs multipart).

use storage::ByteRange;

/// What a `Range` header asks of an object of `size` bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Requested {
    Whole,
    Part(ByteRange),
    /// 416: no byte of it exists.
    Unsatisfiable,
}

pub fn parse(header: Option<&str>, size: u64) -> Requested {
    let Some(spec) = header.and_then(|value| value.trim().strip_prefix("bytes=")) else {
        return Requested::Whole;
    };
    if spec.contains(',') {
        return Requested::Whole;
    }
    let Some((first, last)) = spec.trim().split_once('-') else {
        return Requested::Whole;
    };
    let number = |text: &str| text.trim().parse::<u64>().ok();
    match (first.trim().is_empty(), last.trim().is_empty()) {
        // bytes=-N: the last N bytes.
        (true, false) => match number(last) {
            Some(0) => Requested::Unsatisfiable,
            Some(_) if size == 0 => Requested::Unsatisfiable,
            Some(suffix) => Requested::Part(ByteRange {
                first: size.saturating_sub(suffix),
                last: size - 1,
            }),
            None => Requested::Whole,
        },
        // bytes=N-: from N to the end.
        (false, true) => match number(first) {
            Some(first) if first >= size => Requested::Unsatisfiable,
            Some(first) => Requested::Part(ByteRange {
                first,
                last: size - 1,
            }),
            None => Requested::Whole,
        },
        (false, false) => match (number(first), number(last)) {
            (Some(first), Some(last)) if first > last => Requested::Whole,
            (Some(first), Some(_)) if first >= size => Requested::Unsatisfiable,
            (Some(first), Some(last)) => Requested::Part(ByteRange {
                first,
                last: last.min(size - 1),
            }),
            _ => Requested::Whole,
        },
        (true, true) => Requested::Whole,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(first: u64, last: u64) -> Requested {
        Requested::Part(ByteRange { first, last })
    }

    #[test]
    fn ranges_are_read_as_the_rfc_says() {
        assert_eq!(parse(None, 1000), Requested::Whole);
        assert_eq!(parse(Some("bytes=0-0"), 1000), part(0, 0));
        assert_eq!(parse(Some("bytes=-100"), 1000), part(900, 999));
        assert_eq!(parse(Some("bytes=-5000"), 1000), part(0, 999));
        assert_eq!(parse(Some("bytes=990-"), 1000), part(990, 999));
        assert_eq!(parse(Some("bytes=10-20000"), 1000), part(10, 999));
        assert_eq!(parse(Some("bytes=1000-"), 1000), Requested::Unsatisfiable);
        assert_eq!(
            parse(Some("bytes=1000-1001"), 1000),
            Requested::Unsatisfiable
        );
        assert_eq!(parse(Some("bytes=-0"), 1000), Requested::Unsatisfiable);
    }

    #[test]
    fn what_cannot_be_read_is_answered_whole() {
        for header in [
            "items=0-1",
            "bytes=0-1,5-6",
            "bytes=5-1",
            "bytes=a-b",
            "bytes=-",
        ] {
            assert_eq!(parse(Some(header), 1000), Requested::Whole, "{header}");
        }
    }
}
