//! Consistency tokens: a place in the relay's order.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;
use thiserror::Error;

/// `(tx_id, position)` of an event. Ordered as a pair: a bare position is not enough,
/// because positions are assigned at insert and become visible at commit.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, Serialize, Deserialize,
)]
pub struct Token {
    pub tx_id: i64,
    pub position: i64,
}

impl Token {
    pub const ZERO: Token = Token {
        tx_id: 0,
        position: 0,
    };

    pub fn new(tx_id: i64, position: i64) -> Self {
        Self { tx_id, position }
    }
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.tx_id, self.position)
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("a consistency token looks like `<tx_id>.<position>`, both non-negative integers")]
pub struct TokenParseError;

impl FromStr for Token {
    type Err = TokenParseError;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (tx, pos) = text.trim().split_once('.').ok_or(TokenParseError)?;
        let tx_id: i64 = tx.parse().map_err(|_| TokenParseError)?;
        let position: i64 = pos.parse().map_err(|_| TokenParseError)?;
        if tx_id < 0 || position < 0 {
            return Err(TokenParseError);
        }
        Ok(Self { tx_id, position })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn orders_by_transaction_first() {
        // A later transaction that took a lower position still comes after.
        assert!(Token::new(10, 500) < Token::new(11, 3));
        assert!(Token::new(10, 5) < Token::new(10, 6));
    }

    #[test]
    fn round_trips_through_text() {
        let token = Token::new(812, 44);
        assert_eq!(token.to_string().parse::<Token>().unwrap(), token);
        for bad in ["", "1", "1.", ".1", "a.b", "-1.2", "1.2.3"] {
            assert!(bad.parse::<Token>().is_err(), "{bad:?}");
        }
    }
}
