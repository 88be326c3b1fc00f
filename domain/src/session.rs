//! Sessions: one per sign-in, each the family of its rotating refresh tokens (AUTH-2,
//! AUTH-3, AUTH-6).
//!
//! Their state lives in tables that can be changed by atomic compare-and-set (ADR 4); the
//! rules are here, pure, and every change is recorded as one of these events.

use crate::DomainEvent;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// The aggregate type sessions' events are stored under.
pub const AGGREGATE_TYPE: &str = "session";

/// How a person proved who they are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SignInMethod {
    Password,
    PasswordAndTotp,
    PasswordAndRecoveryCode,
}

/// Why a session ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EndReason {
    /// The person signed out of this session.
    SignedOut,
    /// The person signed out everywhere.
    SignedOutEverywhere,
    /// A refresh token of this session was used twice: someone else may hold it.
    TokenReuse,
    PasswordChanged,
    PasswordReset,
    SecondFactorChanged,
    AccountDisabled,
    /// An admin changed the account's role: tokens carrying the old role must go.
    RoleChanged,
    AccountDeleted,
}

impl SignInMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            SignInMethod::Password => "password",
            SignInMethod::PasswordAndTotp => "password_and_totp",
            SignInMethod::PasswordAndRecoveryCode => "password_and_recovery_code",
        }
    }

    /// Whether a second factor was part of it.
    pub fn is_two_step(self) -> bool {
        !matches!(self, SignInMethod::Password)
    }
}

impl EndReason {
    pub fn as_str(self) -> &'static str {
        match self {
            EndReason::SignedOut => "signed_out",
            EndReason::SignedOutEverywhere => "signed_out_everywhere",
            EndReason::TokenReuse => "token_reuse",
            EndReason::PasswordChanged => "password_changed",
            EndReason::PasswordReset => "password_reset",
            EndReason::SecondFactorChanged => "second_factor_changed",
            EndReason::AccountDisabled => "account_disabled",
            EndReason::RoleChanged => "role_changed",
            EndReason::AccountDeleted => "account_deleted",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [
            EndReason::SignedOut,
            EndReason::SignedOutEverywhere,
            EndReason::TokenReuse,
            EndReason::PasswordChanged,
            EndReason::PasswordReset,
            EndReason::SecondFactorChanged,
            EndReason::AccountDisabled,
            EndReason::RoleChanged,
            EndReason::AccountDeleted,
        ]
        .into_iter()
        .find(|reason| reason.as_str() == text)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionStarted {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub method: SignInMethod,
    pub started_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SessionEnded {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub reason: EndReason,
    pub ended_at: DateTime<Utc>,
}

/// A rotated refresh token came back: the session is ended with
/// [`EndReason::TokenReuse`] in the same transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RefreshTokenReused {
    pub session_id: Uuid,
    pub user_id: Uuid,
    pub detected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum SessionEvent {
    SessionStarted(SessionStarted),
    SessionEnded(SessionEnded),
    RefreshTokenReused(RefreshTokenReused),
}

impl DomainEvent for SessionEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SessionEvent::SessionStarted(_) => "SessionStarted",
            SessionEvent::SessionEnded(_) => "SessionEnded",
            SessionEvent::RefreshTokenReused(_) => "RefreshTokenReused",
        }
    }

    fn event_version(&self) -> &'static str {
        "1.0"
    }
}

/// What is known about a presented refresh token and its session.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PresentedToken {
    /// When the token was used already, if it was.
    pub used_at: Option<DateTime<Utc>>,
    /// The token's idle expiry.
    pub expires_at: DateTime<Utc>,
    /// The session's absolute expiry.
    pub session_expires_at: DateTime<Utc>,
    /// When the session was revoked, if it was.
    pub session_revoked_at: Option<DateTime<Utc>>,
}

/// What to do with a refresh request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefreshDecision {
    /// Issue a successor and mark this token used.
    Rotate,
    /// The token was used before: end the whole session and record the theft.
    Reuse,
    /// The session is over (revoked or past its absolute expiry): refuse quietly.
    SessionOver,
    /// The token lapsed unused: refuse quietly.
    Expired,
}

/// Decides a refresh (RFC 9700 4.14.2). There is no grace period: a token presented twice
/// is reuse, however close together, so the SPA serialises its refreshes (Web Locks).
pub fn decide_refresh(token: &PresentedToken, now: DateTime<Utc>) -> RefreshDecision {
    if token.session_revoked_at.is_some() || now >= token.session_expires_at {
        return RefreshDecision::SessionOver;
    }
    if token.used_at.is_some() {
        return RefreshDecision::Reuse;
    }
    if now >= token.expires_at {
        return RefreshDecision::Expired;
    }
    RefreshDecision::Rotate
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{Duration, TimeZone};

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn fresh() -> PresentedToken {
        PresentedToken {
            used_at: None,
            expires_at: now() + Duration::days(1),
            session_expires_at: now() + Duration::days(30),
            session_revoked_at: None,
        }
    }

    #[test]
    fn an_unused_live_token_rotates() {
        assert_eq!(decide_refresh(&fresh(), now()), RefreshDecision::Rotate);
    }

    #[test]
    fn a_used_token_is_reuse_even_a_moment_later() {
        let token = PresentedToken {
            used_at: Some(now()),
            ..fresh()
        };
        assert_eq!(decide_refresh(&token, now()), RefreshDecision::Reuse);
    }

    #[test]
    fn a_revoked_session_refuses_without_raising_reuse_again() {
        let token = PresentedToken {
            used_at: Some(now()),
            session_revoked_at: Some(now()),
            ..fresh()
        };
        assert_eq!(decide_refresh(&token, now()), RefreshDecision::SessionOver);
    }

    #[test]
    fn the_absolute_expiry_ends_the_session_however_active() {
        let token = fresh();
        let later = token.session_expires_at;
        assert_eq!(decide_refresh(&token, later), RefreshDecision::SessionOver);
    }

    #[test]
    fn an_idle_token_lapses() {
        let token = fresh();
        let later = token.expires_at + Duration::seconds(1);
        assert_eq!(decide_refresh(&token, later), RefreshDecision::Expired);
    }

    #[test]
    fn end_reasons_round_trip_through_text() {
        for reason in [
            EndReason::SignedOut,
            EndReason::TokenReuse,
            EndReason::AccountDeleted,
        ] {
            assert_eq!(EndReason::parse(reason.as_str()), Some(reason));
        }
        assert_eq!(EndReason::parse("nope"), None);
    }
}
