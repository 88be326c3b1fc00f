-- The side store of extracted texts (AI-1): sealed under the owner's data key, named by
-- events (TextExtracted) by id, SHA-256 and length; never in the event log itself.
create table document_texts (
    text_id     uuid primary key,
    document_id uuid not null,
    owner       uuid not null,
    sealed      text not null,
    stored_at   timestamptz not null default now()
);
create index document_texts_document on document_texts (document_id);
create index document_texts_owner on document_texts (owner);
grant select, insert, delete on document_texts to docuvault_runtime;
