//! Language detection, mapped to PostgreSQL text-search configurations.

use whatlang::Lang;

/// Below this many bytes of text, trigram statistics are noise.
const MIN_TEXT_BYTES: usize = 80;
/// Detection cost grows with the text; the first pages tell the language well enough.
const SAMPLE_BYTES: usize = 16 * 1024;

/// The configurations a stock PostgreSQL 15 ships (`domain`'s list): a child process's
/// answer is checked against it, so only these names ever reach a query.
pub use domain::document::classification::text_search_config as pg_text_search_config;

fn config_for(lang: Lang) -> Option<&'static str> {
    Some(match lang {
        Lang::Eng => "english",
        Lang::Deu => "german",
        Lang::Fra => "french",
        Lang::Spa => "spanish",
        Lang::Ita => "italian",
        Lang::Nld => "dutch",
        Lang::Por => "portuguese",
        Lang::Rus => "russian",
        Lang::Swe => "swedish",
        Lang::Dan => "danish",
        Lang::Nob => "norwegian",
        Lang::Fin => "finnish",
        Lang::Hun => "hungarian",
        Lang::Ron => "romanian",
        Lang::Tur => "turkish",
        _ => return None,
    })
}

/// The configuration for the text's language, or `None` (meaning `simple`) when the text is too
/// short, the detection unreliable, or the language has no stock configuration.
pub(crate) fn detect(text: &str) -> Option<&'static str> {
    if text.len() < MIN_TEXT_BYTES {
        return None;
    }
    let mut end = text.len().min(SAMPLE_BYTES);
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    let info = whatlang::detect(text.get(..end)?)?;
    if !info.is_reliable() {
        return None;
    }
    config_for(info.lang())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_mapped_language_is_a_known_config() {
        for lang in Lang::all() {
            if let Some(config) = config_for(*lang) {
                assert_eq!(pg_text_search_config(config), Some(config));
            }
        }
        assert_eq!(pg_text_search_config("simple'; drop table x"), None);
    }

    #[test]
    fn short_text_has_no_language() {
        assert_eq!(detect("Guten Tag"), None);
    }
}
