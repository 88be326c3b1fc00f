//! Access tokens: short-lived JWTs signed with Ed25519 (AUTH-2; SECURITY 11).
//!
//! One algorithm is pinned (EdDSA); `none`, HS* and anything else are refused by the
//! header check; `jku`, `x5u` and `jwk` headers are never looked at. Time claims are
//! checked against the server's clock (so tests control it) with 30 s of leeway.

use chrono::{DateTime, Duration, Utc};
use domain::Clock;
use ed25519_dalek::SigningKey;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use thiserror::Error;
use uuid::Uuid;

pub const ISSUER: &str = "docuvault";
/// The audience of tokens that open the API.
pub const API_AUDIENCE: &str = "docuvault-api";
/// The audience of tokens that only allow the second step of a sign-in (SECURITY 8):
/// every other route refuses them, because they are not for [`API_AUDIENCE`].
pub const SECOND_STEP_AUDIENCE: &str = "docuvault-second-step";
/// How long the second step may take.
pub const SECOND_STEP_TTL: Duration = Duration::minutes(5);
/// The most clock skew tolerated on `exp`, `nbf` and `iat`.
pub const LEEWAY: Duration = Duration::seconds(30);
/// No access token lives longer than this, whatever the configuration says.
pub const MAX_TTL: Duration = Duration::minutes(10);

/// What an access token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    pub iss: String,
    pub aud: String,
    /// The user.
    pub sub: Uuid,
    /// The session (refresh-token family) it was issued under; a revoked session
    /// refuses its tokens at once.
    pub sid: Uuid,
    pub role: String,
    pub iat: i64,
    pub nbf: i64,
    pub exp: i64,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum TokenError {
    #[error("the token is not valid: {0}")]
    Invalid(String),
    #[error("the token has expired")]
    Expired,
    #[error("the token is not valid yet")]
    NotYetValid,
    #[error("the token could not be signed: {0}")]
    Signing(String),
}

/// A freshly signed token and its lifetime in seconds.
pub struct SignedToken {
    pub token: String,
    pub expires_in: i64,
}

#[derive(Clone)]
pub struct AccessTokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    second_step_validation: Validation,
    ttl: Duration,
    clock: Arc<dyn Clock>,
}

/// PKCS#8 v1 prefix of an Ed25519 private key (RFC 8410): the seed follows it.
const ED25519_PKCS8_PREFIX: [u8; 16] = [
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
];

impl AccessTokens {
    /// Keys from a 32-byte seed (derived from the master secret); `ttl` is capped at
    /// [`MAX_TTL`].
    pub fn new(seed: &[u8; 32], ttl: Duration, clock: Arc<dyn Clock>) -> Self {
        let signing = SigningKey::from_bytes(seed);
        let mut der = zeroize::Zeroizing::new(Vec::with_capacity(48));
        der.extend_from_slice(&ED25519_PKCS8_PREFIX);
        der.extend_from_slice(seed);
        let mut validation = Validation::new(Algorithm::EdDSA);
        validation.set_issuer(&[ISSUER]);
        validation.set_audience(&[API_AUDIENCE]);
        validation.set_required_spec_claims(&["exp", "iat", "nbf", "iss", "aud", "sub"]);
        // Time is checked below against the injected clock.
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.leeway = 0;
        let mut second_step_validation = validation.clone();
        second_step_validation.set_audience(&[SECOND_STEP_AUDIENCE]);
        Self {
            encoding: EncodingKey::from_ed_der(&der),
            decoding: DecodingKey::from_ed_der(signing.verifying_key().as_bytes()),
            validation,
            second_step_validation,
            ttl: ttl.min(MAX_TTL),
            clock,
        }
    }

    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    fn sign(
        &self,
        audience: &str,
        user_id: Uuid,
        session_id: Uuid,
        role: &str,
        ttl: Duration,
    ) -> Result<SignedToken, TokenError> {
        let now = self.clock.now().timestamp();
        let claims = AccessClaims {
            iss: ISSUER.into(),
            aud: audience.into(),
            sub: user_id,
            sid: session_id,
            role: role.into(),
            iat: now,
            nbf: now,
            exp: now + ttl.num_seconds(),
        };
        let token = jsonwebtoken::encode(&Header::new(Algorithm::EdDSA), &claims, &self.encoding)
            .map_err(|error| TokenError::Signing(error.to_string()))?;
        Ok(SignedToken {
            token,
            expires_in: ttl.num_seconds(),
        })
    }

    pub fn issue(
        &self,
        user_id: Uuid,
        session_id: Uuid,
        role: &str,
    ) -> Result<SignedToken, TokenError> {
        self.sign(API_AUDIENCE, user_id, session_id, role, self.ttl)
    }

    /// A token that only allows the second step of `user_id`'s sign-in.
    pub fn issue_second_step(&self, user_id: Uuid) -> Result<SignedToken, TokenError> {
        self.sign(
            SECOND_STEP_AUDIENCE,
            user_id,
            Uuid::nil(),
            "",
            SECOND_STEP_TTL,
        )
    }

    pub fn verify(&self, token: &str) -> Result<AccessClaims, TokenError> {
        self.verify_with(token, &self.validation)
    }

    /// The user a second-step token is for.
    pub fn verify_second_step(&self, token: &str) -> Result<Uuid, TokenError> {
        self.verify_with(token, &self.second_step_validation)
            .map(|claims| claims.sub)
    }

    fn verify_with(
        &self,
        token: &str,
        validation: &Validation,
    ) -> Result<AccessClaims, TokenError> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, validation)
            .map_err(|error| TokenError::Invalid(error.to_string()))?;
        check_times(&data.claims, self.clock.now())?;
        Ok(data.claims)
    }
}

fn check_times(claims: &AccessClaims, now: DateTime<Utc>) -> Result<(), TokenError> {
    let now = now.timestamp();
    let leeway = LEEWAY.num_seconds();
    if claims.exp + leeway <= now {
        return Err(TokenError::Expired);
    }
    if claims.nbf - leeway > now || claims.iat - leeway > now {
        return Err(TokenError::NotYetValid);
    }
    if claims.exp - claims.iat > MAX_TTL.num_seconds() {
        return Err(TokenError::Invalid("lifetime longer than allowed".into()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    use chrono::TimeZone;
    use domain::clock::ManualClock;

    fn setup() -> (AccessTokens, Arc<ManualClock>) {
        let clock = Arc::new(ManualClock::at(
            Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap(),
        ));
        (
            AccessTokens::new(&[7u8; 32], Duration::minutes(10), clock.clone()),
            clock,
        )
    }

    fn forge(header: &str, claims: &serde_json::Value, signature: &[u8]) -> String {
        format!(
            "{}.{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string()),
            URL_SAFE_NO_PAD.encode(signature)
        )
    }

    fn claims(tokens: &AccessTokens) -> serde_json::Value {
        let token = tokens
            .issue(Uuid::nil(), Uuid::nil(), "user")
            .unwrap()
            .token;
        serde_json::to_value(tokens.verify(&token).unwrap()).unwrap()
    }

    #[test]
    fn a_token_verifies_until_it_expires_plus_leeway() {
        let (tokens, clock) = setup();
        let token = tokens
            .issue(Uuid::from_u128(1), Uuid::from_u128(2), "user")
            .unwrap();
        assert_eq!(token.expires_in, 600);
        let claims = tokens.verify(&token.token).unwrap();
        assert_eq!(claims.sub, Uuid::from_u128(1));
        clock.advance(Duration::seconds(600 + 29));
        assert!(tokens.verify(&token.token).is_ok());
        clock.advance(Duration::seconds(1));
        assert_eq!(tokens.verify(&token.token), Err(TokenError::Expired));
    }

    #[test]
    fn second_step_tokens_open_nothing_else_and_access_tokens_are_no_second_step() {
        let (tokens, _) = setup();
        let pending = tokens.issue_second_step(Uuid::from_u128(5)).unwrap();
        assert_eq!(pending.expires_in, 300);
        assert!(tokens.verify(&pending.token).is_err());
        assert_eq!(
            tokens.verify_second_step(&pending.token),
            Ok(Uuid::from_u128(5))
        );
        let access = tokens
            .issue(Uuid::from_u128(5), Uuid::nil(), "user")
            .unwrap();
        assert!(tokens.verify_second_step(&access.token).is_err());
    }

    #[test]
    fn the_lifetime_is_capped_at_ten_minutes() {
        let clock = Arc::new(ManualClock::at(
            Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0).unwrap(),
        ));
        let tokens = AccessTokens::new(&[1u8; 32], Duration::hours(2), clock);
        assert_eq!(tokens.ttl(), MAX_TTL);
    }

    #[test]
    fn alg_none_and_hs256_with_the_public_key_are_refused() {
        let (tokens, _) = setup();
        let body = claims(&tokens);
        let none = forge(r#"{"alg":"none","typ":"JWT"}"#, &body, b"");
        assert!(tokens.verify(&none).is_err());
        let public = SigningKey::from_bytes(&[7u8; 32])
            .verifying_key()
            .to_bytes();
        let hs = jsonwebtoken::encode(
            &Header::new(Algorithm::HS256),
            &body,
            &EncodingKey::from_secret(&public),
        )
        .unwrap();
        assert!(tokens.verify(&hs).is_err());
    }

    #[test]
    fn foreign_issuer_audience_and_signer_are_refused() {
        let (tokens, clock) = setup();
        let other = AccessTokens::new(&[8u8; 32], Duration::minutes(10), clock);
        let foreign = other.issue(Uuid::nil(), Uuid::nil(), "user").unwrap().token;
        assert!(tokens.verify(&foreign).is_err());
        for (field, value) in [("iss", "someone-else"), ("aud", "another-api")] {
            let mut body = claims(&tokens);
            body[field] = value.into();
            let der = [&ED25519_PKCS8_PREFIX[..], &[7u8; 32]].concat();
            let token = jsonwebtoken::encode(
                &Header::new(Algorithm::EdDSA),
                &body,
                &EncodingKey::from_ed_der(&der),
            )
            .unwrap();
            assert!(tokens.verify(&token).is_err(), "{field}");
        }
    }

    #[test]
    fn missing_exp_future_nbf_and_flipped_bits_are_refused() {
        let (tokens, _) = setup();
        let der = [&ED25519_PKCS8_PREFIX[..], &[7u8; 32]].concat();
        let sign = |body: &serde_json::Value| {
            jsonwebtoken::encode(
                &Header::new(Algorithm::EdDSA),
                body,
                &EncodingKey::from_ed_der(&der),
            )
            .unwrap()
        };
        let mut no_exp = claims(&tokens);
        no_exp.as_object_mut().unwrap().remove("exp");
        assert!(tokens.verify(&sign(&no_exp)).is_err());
        let mut future = claims(&tokens);
        future["nbf"] = (future["nbf"].as_i64().unwrap() + 120).into();
        assert_eq!(tokens.verify(&sign(&future)), Err(TokenError::NotYetValid));
        let good = sign(&claims(&tokens));
        let mut bytes = good.into_bytes();
        let last = bytes.len() - 5;
        bytes[last] = if bytes[last] == b'A' { b'B' } else { b'A' };
        assert!(tokens.verify(&String::from_utf8(bytes).unwrap()).is_err());
    }
}
