//! How many documents a search matches, estimated before it runs from the search
//! column's statistics: the way `search` takes to the newest matches depends on it.

use sqlx::PgPool;
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The share of documents each common lexeme of the search column is in, as the column's
/// statistics say (`most_common_elems`). Casting those 10,000-element arrays costs about
/// 7–10 ms, so they are read once per `ttl` rather than per query, and out of the
/// request's way: read when the API starts ([`WordShares::refresh`]), and past the `ttl`
/// a search gets the shares there are while a background task reads them again. The
/// statistics only change when the table is analysed.
#[derive(Clone)]
pub struct WordShares {
    ttl: Duration,
    cached: Arc<Mutex<Option<CachedShares>>>,
    refreshing: Arc<AtomicBool>,
}

struct CachedShares {
    schema: String,
    read_at: Instant,
    shares: Arc<HashMap<String, f64>>,
}

impl WordShares {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            cached: Arc::new(Mutex::new(None)),
            refreshing: Arc::new(AtomicBool::new(false)),
        }
    }

    /// The share of documents matching `text` as `search` reads it (its words, and
    /// their stems in `language`).
    pub async fn matching(
        &self,
        pool: &PgPool,
        schema: &str,
        text: &str,
        language: &str,
    ) -> Result<f64, sqlx::Error> {
        let tsquery: String = sqlx::query_scalar(&format!(
            "select ({})::text",
            super::search::tsquery_sql("$1", "$2")
        ))
        .bind(text)
        .bind(language)
        .fetch_one(pool)
        .await?;
        let shares = self.shares(pool, schema).await?;
        Ok(estimate(&tsquery, |lexeme| {
            shares.get(lexeme).copied().unwrap_or(0.0)
        }))
    }

    async fn shares(
        &self,
        pool: &PgPool,
        schema: &str,
    ) -> Result<Arc<HashMap<String, f64>>, sqlx::Error> {
        let cached = self.cached.lock().ok().and_then(|guard| {
            guard
                .as_ref()
                .filter(|cached| cached.schema == schema)
                .map(|cached| (cached.shares.clone(), cached.read_at.elapsed() < self.ttl))
        });
        match cached {
            Some((shares, true)) => Ok(shares),
            Some((shares, false)) => {
                self.refresh(pool, schema);
                Ok(shares)
            }
            None => self.read(pool, schema).await,
        }
    }

    /// Reads the statistics again in a background task, unless one is at it (also at
    /// start-up, so that no search waits for them).
    pub fn refresh(&self, pool: &PgPool, schema: &str) {
        if self.refreshing.swap(true, Ordering::AcqRel) {
            return;
        }
        let this = self.clone();
        let pool = pool.clone();
        let schema = schema.to_owned();
        tokio::spawn(async move {
            if let Err(error) = this.read(&pool, &schema).await {
                tracing::warn!(%error, "reading the search words' shares");
            }
            this.refreshing.store(false, Ordering::Release);
        });
    }

    /// Reads the statistics and keeps them, if there are any.
    async fn read(
        &self,
        pool: &PgPool,
        schema: &str,
    ) -> Result<Arc<HashMap<String, f64>>, sqlx::Error> {
        let rows: Vec<(String, f32)> = sqlx::query_as(
            "select e, f
               from pg_stats s,
                    unnest(s.most_common_elems::text::text[], s.most_common_elem_freqs) as u(e, f)
              where s.schemaname = $1 and s.tablename = 'documents' and s.attname = 'search'
                and e is not null",
        )
        .bind(schema)
        .persistent(false)
        .fetch_all(pool)
        .await?;
        let shares: Arc<HashMap<String, f64>> = Arc::new(
            rows.into_iter()
                .map(|(word, share)| (word, f64::from(share)))
                .collect(),
        );
        // Before the table is first analysed there are none: kept, they would send every
        // search the way of rare words until the next read.
        if shares.is_empty() {
            return Ok(shares);
        }
        if let Ok(mut guard) = self.cached.lock() {
            *guard = Some(CachedShares {
                schema: schema.to_owned(),
                read_at: Instant::now(),
                shares: shares.clone(),
            });
        }
        Ok(shares)
    }
}

/// The share of documents a tsquery (in Postgres' text form, such as
/// `'jipely' & 'kax' | 'jipe' & 'kax'`) matches, from each lexeme's share: as if the
/// lexemes were independent (`&` and phrases multiply, `|` is either, `!` the rest). 0 for
/// an empty query or one that cannot be read.
pub fn estimate(tsquery: &str, share_of: impl Fn(&str) -> f64) -> f64 {
    let mut parser = Parser {
        rest: tsquery.trim_start(),
        share_of: &share_of,
    };
    match parser.either() {
        Some(share) if parser.rest.is_empty() => share.clamp(0.0, 1.0),
        _ => 0.0,
    }
}

/// A recursive-descent reading of the tsquery text: `|` binds loosest, then `&`, then
/// the phrase operators (`<->`, `<N>`), then `!`.
struct Parser<'a, F> {
    rest: &'a str,
    share_of: &'a F,
}

impl<F: Fn(&str) -> f64> Parser<'_, F> {
    fn either(&mut self) -> Option<f64> {
        let mut share = self.both()?;
        while self.eat("|") {
            let other = self.both()?;
            share = share + other - share * other;
        }
        Some(share)
    }

    fn both(&mut self) -> Option<f64> {
        let mut share = self.phrase()?;
        while self.eat("&") {
            share *= self.phrase()?;
        }
        Some(share)
    }

    fn phrase(&mut self) -> Option<f64> {
        let mut share = self.unary()?;
        while self.eat_distance() {
            share *= self.unary()?;
        }
        Some(share)
    }

    fn unary(&mut self) -> Option<f64> {
        if self.eat("!") {
            return Some(1.0 - self.unary()?);
        }
        if self.eat("(") {
            let share = self.either()?;
            return self.eat(")").then_some(share);
        }
        let lexeme = self.lexeme()?;
        Some((self.share_of)(&lexeme))
    }

    /// `'word'`, with `''` for a quote inside; a weight or prefix mark after it (which
    /// `websearch_to_tsquery` never writes) is skipped.
    fn lexeme(&mut self) -> Option<String> {
        let mut chars = self.rest.strip_prefix('\'')?.char_indices();
        let mut lexeme = String::new();
        let end = loop {
            let (at, c) = chars.next()?;
            match c {
                '\'' if chars.as_str().starts_with('\'') => {
                    chars.next();
                    lexeme.push('\'');
                }
                '\'' => break at + 2,
                '\\' => lexeme.push(chars.next()?.1),
                c => lexeme.push(c),
            }
        };
        let after = &self.rest[end..];
        let marks = after.strip_prefix(':').map_or(0, |marks| {
            1 + marks
                .find(|c: char| !matches!(c, '*' | 'A'..='D' | 'a'..='d'))
                .unwrap_or(marks.len())
        });
        self.rest = after[marks..].trim_start();
        Some(lexeme)
    }

    fn eat_distance(&mut self) -> bool {
        let Some(inner) = self.rest.strip_prefix('<') else {
            return false;
        };
        let Some(close) = inner.find('>') else {
            return false;
        };
        let distance = &inner[..close];
        if distance != "-" && !distance.chars().all(|c| c.is_ascii_digit()) {
            return false;
        }
        self.rest = inner[close + 1..].trim_start();
        true
    }

    fn eat(&mut self, token: &str) -> bool {
        match self.rest.strip_prefix(token) {
            Some(rest) => {
                self.rest = rest.trim_start();
                true
            }
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::estimate;

    fn shares(lexeme: &str) -> f64 {
        match lexeme {
            "kax" => 1.0,
            "jipely" => 0.004,
            "jipe" => 0.25,
            "invoice" => 0.2,
            "total" => 0.5,
            "o'brien" => 0.1,
            _ => 0.0,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-9
    }

    #[test]
    fn both_words_multiply() {
        assert!(close(estimate("'invoice' & 'total'", shares), 0.1));
    }

    #[test]
    fn a_stem_that_is_a_common_word_of_its_own_counts() {
        // The case the words alone got wrong: 'jipely' is rare, its stem is not.
        let share = estimate("'jipely' & 'kax' | 'jipe' & 'kax'", shares);
        assert!(close(share, 0.004 + 0.25 - 0.004 * 0.25), "{share}");
    }

    #[test]
    fn or_not_phrases_and_parentheses() {
        assert!(close(estimate("'invoice' | 'total'", shares), 0.6));
        assert!(close(estimate("'total' & !'invoice'", shares), 0.4));
        assert!(close(estimate("'invoice' <-> 'total'", shares), 0.1));
        assert!(close(estimate("'invoice' <2> 'total'", shares), 0.1));
        assert!(close(
            estimate("( 'invoice' | 'jipe' ) & 'total'", shares),
            (0.2 + 0.25 - 0.05) * 0.5
        ));
        assert!(close(estimate("!( 'invoice' & 'total' )", shares), 0.9));
    }

    #[test]
    fn quotes_marks_and_unknown_words() {
        assert!(close(estimate("'o''brien' & 'total'", shares), 0.05));
        assert!(close(estimate("'invoice':* & 'total':AB", shares), 0.1));
        assert!(close(estimate("'unheard' & 'total'", shares), 0.0));
    }

    #[test]
    fn nothing_or_nonsense_is_no_share() {
        assert!(close(estimate("", shares), 0.0));
        assert!(close(estimate("'invoice' &", shares), 0.0));
        assert!(close(estimate("'invoice", shares), 0.0));
        assert!(close(estimate("( 'invoice'", shares), 0.0));
        assert!(close(estimate("'invoice' 'total'", shares), 0.0));
    }
}
