//! Every bound extraction and the sandbox enforce, in one place.

use std::time::Duration;

use crate::MIB;

/// Bounds on one extraction. The defaults suit the vault's 100 MiB upload cap on a server with
/// a few GiB of memory; the child receives the ones it needs on its command line
/// ([`crate::child_args`]), the rest are compiled in on both sides.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Limits {
    /// Largest document accepted at all (the child stops reading stdin past it).
    pub max_input_bytes: u64,
    /// Largest text returned; longer text is cut at a character boundary and flagged.
    pub max_text_bytes: usize,
    /// Address-space cap (RLIMIT_AS) of the child process.
    pub max_memory_bytes: u64,
    /// CPU-time cap (RLIMIT_CPU) of the child process.
    pub max_cpu_seconds: u64,
    /// Wall-clock cap the parent enforces by killing the child.
    pub wall_clock: Duration,
    /// Most entries a DOCX (zip) may list in its central directory.
    pub max_zip_entries: u64,
    /// Most bytes all entries of a DOCX may declare, and inflate to, together.
    pub max_inflated_bytes: u64,
    /// Highest uncompressed:compressed ratio of an entry larger than
    /// [`Limits::ratio_min_entry_bytes`].
    pub max_ratio: u64,
    /// Entries up to this size are exempt from the ratio check (tiny XML parts compress well).
    pub ratio_min_entry_bytes: u64,
    /// Deepest element nesting accepted in a DOCX part.
    pub max_xml_depth: usize,
    /// Most indirect objects a PDF may hold.
    pub max_pdf_objects: usize,
    /// Most pages a PDF may hold.
    pub max_pdf_pages: usize,
    /// Most bytes one PDF stream (object stream, page content) may decompress to.
    pub max_pdf_stream_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_input_bytes: 100 * MIB,
            max_text_bytes: 1024 * 1024,
            max_memory_bytes: 512 * MIB,
            max_cpu_seconds: 10,
            wall_clock: Duration::from_secs(20),
            max_zip_entries: 10_000,
            max_inflated_bytes: 200 * MIB,
            max_ratio: 100,
            ratio_min_entry_bytes: 64 * 1024,
            max_xml_depth: 256,
            max_pdf_objects: 500_000,
            max_pdf_pages: 5_000,
            max_pdf_stream_bytes: 64 * 1024 * 1024,
        }
    }
}
