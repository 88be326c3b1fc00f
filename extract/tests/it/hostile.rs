//! Hostile files fail fast, in-process, with the right code.

use std::time::{Duration, Instant};

use extract::{extract, ExtractError, Kind, Limits};

use crate::fixtures::{self, RawEntry, INVOICE};

/// Extracts with default limits and returns the error code; fails the test if it took 2 s.
fn refused(kind: Kind, bytes: &[u8]) -> &'static str {
    refused_with(kind, bytes, &Limits::default())
}

fn refused_with(kind: Kind, bytes: &[u8], limits: &Limits) -> &'static str {
    let start = Instant::now();
    let result = extract(kind, bytes, limits);
    let elapsed = start.elapsed();
    assert!(elapsed < Duration::from_secs(2), "took {elapsed:?}");
    match result {
        Err(err) => {
            assert!(!err.to_string().is_empty());
            err.code()
        }
        Ok(extracted) => panic!("accepted: {extracted:?}"),
    }
}

#[test]
fn zip_bomb_is_refused_before_inflating() {
    let bomb = fixtures::zip_bomb();
    assert!(bomb.len() <= 50 * 1024, "bomb is {} bytes", bomb.len());
    assert_eq!(refused(Kind::Docx, &bomb), "archive_too_large");
}

#[test]
fn zip_bomb_message_names_the_cap() {
    let err = extract(Kind::Docx, &fixtures::zip_bomb(), &Limits::default());
    assert_eq!(
        err.map_err(|err| err.to_string()),
        Err("the archive would inflate to more than 200 MB".to_owned())
    );
}

#[test]
fn entry_compressed_too_well_is_refused() {
    // Honest headers, 4 MiB of zeros in ~4 KB: under the total cap, over 100:1.
    let (data, crc) = fixtures::deflated_zeros(4);
    let entry = RawEntry {
        name: "word/document.xml".to_owned(),
        method: 8,
        crc,
        declared_size: 4 << 20,
        data,
    };
    assert_eq!(
        refused(Kind::Docx, &fixtures::raw_zip(&[entry], false)),
        "compression_ratio"
    );
}

#[test]
fn entry_inflating_past_its_declared_size_is_refused() {
    // The headers claim 1000 bytes (a harmless ratio); the data inflates to 4 MiB.
    let (data, crc) = fixtures::deflated_zeros(4);
    let entry = RawEntry {
        name: "word/document.xml".to_owned(),
        method: 8,
        crc,
        declared_size: 1000,
        data,
    };
    assert_eq!(
        refused(Kind::Docx, &fixtures::raw_zip(&[entry], false)),
        "size_mismatch"
    );
}

#[test]
fn path_traversal_entry_is_refused() {
    let document = fixtures::document_xml(fixtures::DOCX_BODY);
    let bytes = fixtures::zip(&[
        ("word/document.xml", document.as_bytes()),
        ("../evil", b"x".as_slice()),
    ]);
    assert_eq!(refused(Kind::Docx, &bytes), "unsafe_entry_name");
}

#[test]
fn absolute_entry_is_refused() {
    let document = fixtures::document_xml(fixtures::DOCX_BODY);
    let bytes = fixtures::zip(&[
        ("word/document.xml", document.as_bytes()),
        ("/etc/cron.d/evil", b"x".as_slice()),
    ]);
    assert_eq!(refused(Kind::Docx, &bytes), "unsafe_entry_name");
}

#[test]
fn twenty_thousand_entries_are_refused() {
    let entries: Vec<RawEntry> = (0..20_000)
        .map(|i| RawEntry {
            name: format!("f{i}"),
            method: 0,
            crc: 0,
            declared_size: 0,
            data: Vec::new(),
        })
        .collect();
    let bytes = fixtures::raw_zip(&entries, false);
    assert_eq!(refused(Kind::Docx, &bytes), "too_many_entries");
}

#[test]
fn xxe_doctype_is_refused() {
    let document = r#"<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE w:document [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body><w:p><w:r><w:t>&xxe;</w:t></w:r></w:p></w:body></w:document>"#;
    assert_eq!(refused(Kind::Docx, &fixtures::docx(document)), "xml_dtd");
}

#[test]
fn billion_laughs_is_refused() {
    let document = r#"<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>
<w:document xmlns:w="x"><w:body><w:p><w:r><w:t>&lol2;</w:t></w:r></w:p></w:body></w:document>"#;
    assert_eq!(refused(Kind::Docx, &fixtures::docx(document)), "xml_dtd");
}

#[test]
fn deeply_nested_xml_is_refused() {
    // Deep enough to pass the cap, small enough for the compression-ratio exemption.
    let depth = 1_000;
    let body = format!("{}{}", "<w:sdt>".repeat(depth), "</w:sdt>".repeat(depth));
    let bytes = fixtures::docx(&fixtures::document_xml(&body));
    assert_eq!(refused(Kind::Docx, &bytes), "xml_too_deep");
}

#[test]
fn docx_without_document_part_is_refused() {
    let bytes = fixtures::zip(&[("[Content_Types].xml", fixtures::CONTENT_TYPES.as_bytes())]);
    assert_eq!(refused(Kind::Docx, &bytes), "unreadable_docx");
}

#[test]
fn malformed_document_xml_is_refused() {
    let bytes = fixtures::docx("<w:document><w:body><w:p></w:body>");
    assert_eq!(refused(Kind::Docx, &bytes), "unreadable_docx");
}

#[test]
fn truncated_pdf_is_refused() {
    let pdf = fixtures::pdf(&[INVOICE]);
    let half = pdf.get(..pdf.len() / 2).expect("half");
    assert_eq!(refused(Kind::Pdf, half), "unreadable_pdf");
}

#[test]
fn encrypted_pdf_is_refused() {
    assert_eq!(refused(Kind::Pdf, &fixtures::encrypted_pdf()), "encrypted");
}

#[test]
fn self_referencing_page_tree_is_refused() {
    // The Pages node lists itself as its only kid: a naive walk never ends.
    let bytes = fixtures::raw_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [2 0 R] /Count 1 >>".to_vec(),
    ]);
    assert_eq!(refused(Kind::Pdf, &bytes), "unreadable_pdf");
}

#[test]
fn page_tree_cycle_through_a_page_is_capped() {
    // Pages → [Page, Pages itself]: every lap yields the page again. lopdf bounds the walk by
    // the object count; our page cap turns what is left into a refusal.
    let mut objects = vec![
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R 2 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] >>".to_vec(),
    ];
    objects.extend((0..100).map(|_| b"null".to_vec()));
    let limits = Limits {
        max_pdf_pages: 50,
        ..Limits::default()
    };
    assert_eq!(
        refused_with(Kind::Pdf, &fixtures::raw_pdf(&objects), &limits),
        "too_many_pages"
    );
}

#[test]
fn deeply_nested_pdf_arrays_do_not_overflow_the_stack() {
    // 100,000 nested arrays hung off the page: lopdf's parser stops at its nesting limit.
    let depth = 100_000;
    let deep = [b"[".repeat(depth), b"]".repeat(depth)].concat();
    let bytes = fixtures::raw_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Annots 4 0 R >>".to_vec(),
        deep,
    ]);
    let start = Instant::now();
    let result = extract(Kind::Pdf, &bytes, &Limits::default());
    assert!(start.elapsed() < Duration::from_secs(2));
    // The page itself is fine and has no text; the deep object is just unreadable.
    match result {
        Ok(extracted) => assert_eq!(extracted.text, ""),
        Err(err) => assert_eq!(err, ExtractError::UnreadablePdf),
    }
}

#[test]
fn deeply_nested_arrays_in_page_content_are_refused() {
    // The same nesting inside the page's content stream, which only text extraction parses.
    let depth = 100_000;
    let mut content = format!("<< /Length {} >>\nstream\n", depth * 2 + 3).into_bytes();
    content.extend([b"[".repeat(depth), b"]".repeat(depth), b" TJ".to_vec()].concat());
    content.extend_from_slice(b"\nendstream");
    let bytes = fixtures::raw_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R >>".to_vec(),
        content,
    ]);
    assert_eq!(refused(Kind::Pdf, &bytes), "unreadable_pdf_text");
}

#[test]
fn very_deep_page_tree_does_not_overflow_the_stack() {
    // 5,000 Pages nodes, each the only kid of the one before: lopdf walks it iteratively.
    let levels = 5_000;
    let mut objects = vec![b"<< /Type /Catalog /Pages 2 0 R >>".to_vec()];
    objects.extend(
        (0..levels)
            .map(|i| format!("<< /Type /Pages /Kids [{} 0 R] /Count 1 >>", i + 3).into_bytes()),
    );
    objects.push(
        format!(
            "<< /Type /Page /Parent {} 0 R /MediaBox [0 0 10 10] >>",
            levels + 1
        )
        .into_bytes(),
    );
    let start = Instant::now();
    let extracted = extract(Kind::Pdf, &fixtures::raw_pdf(&objects), &Limits::default());
    assert!(start.elapsed() < Duration::from_secs(2));
    assert_eq!(extracted.map(|extracted| extracted.text), Ok(String::new()));
}

#[test]
fn too_many_pdf_objects_are_refused() {
    let limits = Limits {
        max_pdf_objects: 3,
        ..Limits::default()
    };
    assert_eq!(
        refused_with(Kind::Pdf, &fixtures::pdf(&[INVOICE]), &limits),
        "too_many_objects"
    );
}

#[test]
fn too_many_pdf_pages_are_refused() {
    let limits = Limits {
        max_pdf_pages: 2,
        ..Limits::default()
    };
    let bytes = fixtures::pdf(&["one", "two", "three"]);
    assert_eq!(refused_with(Kind::Pdf, &bytes, &limits), "too_many_pages");
}

#[test]
fn pdf_stream_bomb_is_refused() {
    // A page content stream of 4 MiB of zeros, allowed 1 MiB.
    let (zeros, _) = fixtures::deflated_zeros(4);
    // Zlib framing around the raw deflate data (FlateDecode wants zlib): header, data, no
    // checksum check is needed to hit the size cap first.
    let mut zlib = vec![0x78, 0xDA];
    zlib.extend_from_slice(&zeros);
    let mut content = format!(
        "<< /Length {} /Filter /FlateDecode >>\nstream\n",
        zlib.len()
    )
    .into_bytes();
    content.extend_from_slice(&zlib);
    content.extend_from_slice(b"\nendstream");
    let bytes = fixtures::raw_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 10 10] /Contents 4 0 R >>".to_vec(),
        content,
    ]);
    let limits = Limits {
        max_pdf_stream_bytes: 1 << 20,
        ..Limits::default()
    };
    assert_eq!(
        refused_with(Kind::Pdf, &bytes, &limits),
        "pdf_stream_too_large"
    );
}

#[test]
fn empty_pdf_and_docx_are_refused() {
    assert_eq!(refused(Kind::Pdf, b""), "empty_file");
    assert_eq!(refused(Kind::Docx, b""), "empty_file");
}

#[test]
fn random_bytes_are_refused_by_every_kind() {
    let noise = fixtures::noise(64 * 1024);
    assert_eq!(refused(Kind::Text, &noise), "binary");
    assert_eq!(refused(Kind::Markdown, &noise), "binary");
    assert_eq!(refused(Kind::Pdf, &noise), "unreadable_pdf");
    assert_eq!(refused(Kind::Docx, &noise), "unreadable_docx");
}

#[test]
fn a_pdf_declared_as_text_is_binary() {
    let mut pdf = fixtures::pdf(&[INVOICE]);
    pdf.extend_from_slice(&[0, 1, 2]);
    assert_eq!(refused(Kind::Text, &pdf), "binary");
}

#[test]
fn invalid_utf8_is_refused() {
    // "Grüße" in Latin-1.
    assert_eq!(
        refused(Kind::Text, b"Gr\xfc\xdfe aus Berlin"),
        "invalid_utf8"
    );
    assert_eq!(refused(Kind::Markdown, b"# Gr\xfc\xdfe"), "invalid_utf8");
}

#[test]
fn oversized_input_is_refused() {
    let limits = Limits {
        max_input_bytes: 10,
        ..Limits::default()
    };
    assert_eq!(
        refused_with(Kind::Text, b"eleven bytes", &limits),
        "too_large"
    );
}
