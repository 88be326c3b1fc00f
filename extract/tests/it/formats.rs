//! Real documents of each kind come out as the words they hold.

use extract::{extract, ExtractError, Extracted, Kind, Limits};

use crate::fixtures::{self, ENGLISH, GERMAN, INVOICE};

fn run(kind: Kind, bytes: &[u8]) -> Result<Extracted, ExtractError> {
    extract(kind, bytes, &Limits::default())
}

#[test]
fn pdf_text_is_found() {
    let extracted = run(Kind::Pdf, &fixtures::pdf(&[INVOICE])).expect("readable PDF");
    assert_eq!(extracted.text, INVOICE);
    assert!(!extracted.truncated);
    // Too short for a reliable language.
    assert_eq!(extracted.language, None);
}

#[test]
fn pdf_pages_come_in_order_on_their_own_lines() {
    let pages = [
        "First page about apples",
        "Second page about pears",
        "Third page about plums",
    ];
    let extracted = run(Kind::Pdf, &fixtures::pdf(&pages)).expect("readable PDF");
    assert_eq!(extracted.text, pages.join("\n"));
}

#[test]
fn pdf_with_only_an_owner_password_is_read() {
    // An empty user password is what "printing/copying restricted" PDFs use: no password needed.
    let mut doc = fixtures::pdf_document(&[INVOICE]);
    let state = lopdf::EncryptionState::try_from(lopdf::EncryptionVersion::V2 {
        document: &doc,
        owner_password: "owner",
        user_password: "",
        key_length: 128,
        permissions: lopdf::Permissions::empty(),
    })
    .expect("encryption state");
    doc.encrypt(&state).expect("encrypt");
    let extracted = run(Kind::Pdf, &fixtures::save(doc)).expect("readable PDF");
    assert_eq!(extracted.text, INVOICE);
}

#[test]
fn pdf_without_text_is_empty_not_an_error() {
    // What a scanned page looks like to a text extractor: a page with no text operators.
    let bytes = fixtures::raw_pdf(&[
        b"<< /Type /Catalog /Pages 2 0 R >>".to_vec(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>".to_vec(),
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R >>".to_vec(),
        b"<< /Length 21 >>\nstream\n0 0 m 100 100 l S\nendstream".to_vec(),
    ]);
    let extracted = run(Kind::Pdf, &bytes).expect("readable PDF");
    assert_eq!(extracted.text, "");
    assert_eq!(extracted.language, None);
}

#[test]
fn docx_paragraphs_tabs_and_entities() {
    let bytes = fixtures::docx(&fixtures::document_xml(fixtures::DOCX_BODY));
    let extracted = run(Kind::Docx, &bytes).expect("readable DOCX");
    assert_eq!(extracted.text, "Invoice 4711\nGarden shed & tools");
}

#[test]
fn docx_footnotes_and_headers_follow_the_body() {
    let body = fixtures::document_xml("<w:p><w:r><w:t>Body</w:t></w:r></w:p>");
    let header = r#"<w:hdr xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:p><w:r><w:t>Letterhead</w:t></w:r></w:p></w:hdr>"#;
    let footnotes = r#"<w:footnotes xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:footnote><w:p><w:r><w:t>A footnote</w:t></w:r></w:p></w:footnote></w:footnotes>"#;
    let bytes = fixtures::zip(&[
        ("[Content_Types].xml", fixtures::CONTENT_TYPES.as_bytes()),
        ("word/header1.xml", header.as_bytes()),
        ("word/document.xml", body.as_bytes()),
        ("word/footnotes.xml", footnotes.as_bytes()),
    ]);
    let extracted = run(Kind::Docx, &bytes).expect("readable DOCX");
    assert_eq!(extracted.text, "Body\nA footnote\nLetterhead");
}

#[test]
fn markdown_keeps_the_words() {
    let markdown = "# Garden shed\n\nThe *invoice* number is **4711**, see [the shop](https://example.org/shop).\n\n```\ncode stays\n```\n";
    let extracted = run(Kind::Markdown, markdown.as_bytes()).expect("markdown");
    assert_eq!(
        extracted.text,
        "Garden shed\nThe invoice number is 4711, see the shop.\ncode stays"
    );
}

#[test]
fn text_with_bom_and_umlauts_is_german() {
    let bytes = [b"\xEF\xBB\xBF".as_slice(), GERMAN.as_bytes()].concat();
    let extracted = run(Kind::Text, &bytes).expect("text");
    assert!(extracted.text.starts_with("Sehr geehrte"), "BOM dropped");
    assert!(extracted.text.contains("Grüßen"));
    assert_eq!(extracted.language, Some("german"));
}

#[test]
fn english_text_is_english() {
    let extracted = run(Kind::Text, ENGLISH.as_bytes()).expect("text");
    assert_eq!(extracted.language, Some("english"));
}

#[test]
fn english_docx_is_english() {
    let body = format!("<w:p><w:r><w:t>{ENGLISH}</w:t></w:r></w:p>");
    let extracted = run(Kind::Docx, &fixtures::docx(&fixtures::document_xml(&body))).expect("DOCX");
    assert_eq!(extracted.language, Some("english"));
}

#[test]
fn long_text_is_cut_at_a_char_boundary() {
    let limits = Limits {
        max_text_bytes: 1001,
        ..Limits::default()
    };
    let text = "ä".repeat(5000);
    let extracted = extract(Kind::Text, text.as_bytes(), &limits).expect("text");
    assert!(extracted.truncated);
    assert_eq!(extracted.text.len(), 1000);
    assert!(extracted.text.chars().all(|c| c == 'ä'));
}

#[test]
fn whitespace_runs_collapse() {
    let extracted = run(Kind::Text, b"  a\t\t b \r\n\r\n\n c  ").expect("text");
    assert_eq!(extracted.text, "a b\nc");
}

#[test]
fn empty_text_and_markdown_are_empty_not_errors() {
    for kind in [Kind::Text, Kind::Markdown] {
        let extracted = run(kind, b"").expect("empty text is valid");
        assert_eq!(extracted.text, "");
        assert!(!extracted.truncated);
        let extracted = run(kind, b"\xEF\xBB\xBF \n ").expect("blank text is valid");
        assert_eq!(extracted.text, "");
    }
}
