//! Documents built in the test, so the repository holds no binary fixtures and every hostile
//! file shows how it was made.

use std::io::Write;

use flate2::{Compress, Compression, FlushCompress};
use lopdf::{dictionary, Document, Object, Stream};
use zip::write::SimpleFileOptions;
use zip::{CompressionMethod, ZipWriter};

pub const INVOICE: &str = "Invoice number 4711 for the garden shed";

pub const GERMAN: &str = "Sehr geehrte Damen und Herren, hiermit kündige ich meinen Vertrag \
    fristgerecht zum nächstmöglichen Zeitpunkt. Bitte bestätigen Sie mir die Kündigung \
    schriftlich und teilen Sie mir das genaue Datum mit, zu dem der Vertrag endet. \
    Für Rückfragen stehe ich Ihnen gerne zur Verfügung. Mit freundlichen Grüßen";

pub const ENGLISH: &str = "Dear Sir or Madam, I am writing to cancel my subscription at the \
    earliest possible date. Please confirm the cancellation in writing and let me know the \
    exact date on which the contract ends. Thank you for your help with this matter.";

/// A PDF with one Helvetica text line per page; `/ID` set so it can also be encrypted.
pub fn pdf_document(pages: &[&str]) -> Document {
    let mut doc = Document::with_version("1.5");
    doc.trailer.set(
        "ID",
        Object::Array(vec![
            Object::string_literal(b"0123456789abcdef".to_vec()),
            Object::string_literal(b"fedcba9876543210".to_vec()),
        ]),
    );
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! {
        "Type" => "Font",
        "Subtype" => "Type1",
        "BaseFont" => "Helvetica",
    });
    let kids: Vec<Object> = pages
        .iter()
        .map(|text| {
            let content = format!("BT\n/F1 12 Tf\n72 720 Td\n({text}) Tj\nET\n");
            let contents_id = doc.add_object(Stream::new(dictionary! {}, content.into_bytes()));
            Object::Reference(doc.add_object(dictionary! {
                "Type" => "Page",
                "Parent" => pages_id,
                "MediaBox" => vec![0.into(), 0.into(), 595.into(), 842.into()],
                "Resources" => dictionary! { "Font" => dictionary! { "F1" => font_id } },
                "Contents" => contents_id,
            }))
        })
        .collect();
    let count = i64::try_from(kids.len()).expect("page count");
    doc.objects.insert(
        pages_id,
        Object::Dictionary(dictionary! { "Type" => "Pages", "Kids" => kids, "Count" => count }),
    );
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    doc
}

pub fn save(mut doc: Document) -> Vec<u8> {
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).expect("save PDF");
    bytes
}

pub fn pdf(pages: &[&str]) -> Vec<u8> {
    save(pdf_document(pages))
}

/// A PDF readable only with the user password "secret".
pub fn encrypted_pdf() -> Vec<u8> {
    let mut doc = pdf_document(&[INVOICE]);
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "secret",
        key_length: 128,
        permissions: lopdf::Permissions::all(),
    })
    .expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    save(doc)
}

/// A hand-written PDF with a correct xref table: `objects[i]` becomes object `i + 1`, the
/// catalog must be object 1.
pub fn raw_pdf(objects: &[Vec<u8>]) -> Vec<u8> {
    let mut out = b"%PDF-1.5\n".to_vec();
    let mut offsets = Vec::new();
    for (i, body) in objects.iter().enumerate() {
        offsets.push(out.len());
        out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
        out.extend_from_slice(body);
        out.extend_from_slice(b"\nendobj\n");
    }
    let xref = out.len();
    out.extend_from_slice(
        format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1).as_bytes(),
    );
    for offset in offsets {
        out.extend_from_slice(format!("{offset:010} 00000 n \n").as_bytes());
    }
    out.extend_from_slice(
        format!(
            "trailer\n<< /Size {} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        )
        .as_bytes(),
    );
    out
}

pub const CONTENT_TYPES: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>"#;

pub const RELS: &str = r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/></Relationships>"#;

/// `word/document.xml` around the given `<w:body>` content.
pub fn document_xml(body: &str) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>{body}</w:body></w:document>"#
    )
}

/// Two paragraphs, a tab, an escaped ampersand, a word split over two runs.
pub const DOCX_BODY: &str = r#"<w:p><w:r><w:t>Invoice</w:t><w:tab/><w:t>4711</w:t></w:r></w:p><w:p><w:r><w:t xml:space="preserve">Garden shed &amp; </w:t></w:r><w:r><w:t>too</w:t></w:r><w:r><w:t>ls</w:t></w:r></w:p>"#;

/// A zip of the given entries, deflated.
pub fn zip(entries: &[(&str, &[u8])]) -> Vec<u8> {
    let mut writer = ZipWriter::new(std::io::Cursor::new(Vec::new()));
    let options = SimpleFileOptions::default().compression_method(CompressionMethod::Deflated);
    for (name, content) in entries {
        writer.start_file(*name, options).expect("start entry");
        writer.write_all(content).expect("write entry");
    }
    writer.finish().expect("finish zip").into_inner()
}

/// A minimal valid DOCX with the given `word/document.xml`.
pub fn docx(document: &str) -> Vec<u8> {
    zip(&[
        ("[Content_Types].xml", CONTENT_TYPES.as_bytes()),
        ("_rels/.rels", RELS.as_bytes()),
        ("word/document.xml", document.as_bytes()),
    ])
}

/// Raw deflate of `mib` MiB of zeros, built from one compressed MiB repeated: a full flush
/// makes each copy self-contained, so the test never compresses more than 1 MiB.
/// Returns the stream and the CRC-32 of the inflated data.
pub fn deflated_zeros(mib: usize) -> (Vec<u8>, u32) {
    let chunk = vec![0u8; 1 << 20];
    let mut compress = Compress::new(Compression::best(), false);
    let mut block = Vec::with_capacity(64 * 1024);
    compress
        .compress_vec(&chunk, &mut block, FlushCompress::Full)
        .expect("deflate");
    assert_eq!(
        compress.total_in(),
        1 << 20,
        "one call deflates the whole MiB"
    );
    let mut tail = Vec::with_capacity(64);
    compress
        .compress_vec(&[], &mut tail, FlushCompress::Finish)
        .expect("finish deflate");
    let mut stream = Vec::with_capacity(block.len() * mib + tail.len());
    for _ in 0..mib {
        stream.extend_from_slice(&block);
    }
    stream.extend_from_slice(&tail);

    let mut one = crc32fast::Hasher::new();
    one.update(&chunk);
    let mut all = crc32fast::Hasher::new();
    for _ in 0..mib {
        all.combine(&one);
    }
    (stream, all.finalize())
}

/// One entry of a hand-made zip: what its headers declare, and its stored data.
pub struct RawEntry {
    pub name: String,
    /// 0 = stored, 8 = deflate.
    pub method: u16,
    pub crc: u32,
    pub declared_size: u32,
    pub data: Vec<u8>,
}

/// A zip written byte by byte, so headers can say whatever a test needs. With `shared_data`,
/// every central-directory record points at the first entry's local header and data (the
/// overlapping-entries zip bomb): the file holds the compressed data once.
pub fn raw_zip(entries: &[RawEntry], shared_data: bool) -> Vec<u8> {
    let mut out = Vec::new();
    let mut offsets = Vec::new();
    for entry in entries {
        if shared_data && !offsets.is_empty() {
            offsets.push(0u32);
            continue;
        }
        offsets.push(u32::try_from(out.len()).expect("offset"));
        out.extend_from_slice(b"PK\x03\x04");
        out.extend_from_slice(&20u16.to_le_bytes()); // version needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&entry.method.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // time, date
        out.extend_from_slice(&entry.crc.to_le_bytes());
        out.extend_from_slice(&u32::try_from(entry.data.len()).expect("size").to_le_bytes());
        out.extend_from_slice(&entry.declared_size.to_le_bytes());
        out.extend_from_slice(&u16::try_from(entry.name.len()).expect("name").to_le_bytes());
        out.extend_from_slice(&0u16.to_le_bytes()); // extra
        out.extend_from_slice(entry.name.as_bytes());
        out.extend_from_slice(&entry.data);
    }
    let central = out.len();
    let first_data_len = entries.first().map_or(0, |entry| entry.data.len());
    for (entry, offset) in entries.iter().zip(&offsets) {
        let (crc, compressed, declared) = if shared_data {
            let first = &entries[0];
            (first.crc, first_data_len, entry.declared_size)
        } else {
            (entry.crc, entry.data.len(), entry.declared_size)
        };
        out.extend_from_slice(b"PK\x01\x02");
        out.extend_from_slice(&20u16.to_le_bytes()); // made by
        out.extend_from_slice(&20u16.to_le_bytes()); // needed
        out.extend_from_slice(&0u16.to_le_bytes()); // flags
        out.extend_from_slice(&entry.method.to_le_bytes());
        out.extend_from_slice(&0u32.to_le_bytes()); // time, date
        out.extend_from_slice(&crc.to_le_bytes());
        out.extend_from_slice(&u32::try_from(compressed).expect("size").to_le_bytes());
        out.extend_from_slice(&declared.to_le_bytes());
        out.extend_from_slice(&u16::try_from(entry.name.len()).expect("name").to_le_bytes());
        out.extend_from_slice(&[0; 8]); // extra, comment, disk, internal attributes
        out.extend_from_slice(&0u32.to_le_bytes()); // external attributes
        out.extend_from_slice(&offset.to_le_bytes());
        out.extend_from_slice(entry.name.as_bytes());
    }
    let central_len = out.len() - central;
    let count = u16::try_from(entries.len()).expect("count");
    out.extend_from_slice(b"PK\x05\x06");
    out.extend_from_slice(&[0; 4]); // disk numbers
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&count.to_le_bytes());
    out.extend_from_slice(&u32::try_from(central_len).expect("cd").to_le_bytes());
    out.extend_from_slice(&u32::try_from(central).expect("cd").to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes()); // comment
    out
}

/// The overlapping-entries bomb: ~41 KB on disk, ten entries (one of them
/// `word/document.xml`) each inflating to 40 MiB: 400 MiB declared and real.
pub fn zip_bomb() -> Vec<u8> {
    let (data, crc) = deflated_zeros(40);
    let entries: Vec<RawEntry> = (0..10)
        .map(|i| RawEntry {
            name: if i == 0 {
                "word/document.xml".to_owned()
            } else {
                format!("word/media/part{i}.xml")
            },
            method: 8,
            crc,
            declared_size: 40 << 20,
            data: if i == 0 { data.clone() } else { Vec::new() },
        })
        .collect();
    raw_zip(&entries, true)
}

/// Deterministic pseudo-random bytes (xorshift), so failures reproduce.
pub fn noise(len: usize) -> Vec<u8> {
    let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state.to_le_bytes()[0]
        })
        .collect()
}
