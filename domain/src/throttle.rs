//! Progressive throttling of guesses (AUTH-7, SECURITY 3), after kanidm's soft lock:
//! a few free failures, then delays that double up to a cap, and a window after which
//! everything is forgiven. Never a permanent lock, so an attacker cannot lock a person out
//! for good, and a person who waits always gets in.

use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

/// The bucket of a client address: an IPv4 address alone, an IPv6 address by its /64
/// (one subscriber usually holds a whole /64), an IPv4-mapped IPv6 address as IPv4.
pub fn address_bucket(address: IpAddr) -> String {
    match address {
        IpAddr::V4(v4) => format!("ip:{v4}"),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => format!("ip:{v4}"),
            None => {
                let s = v6.segments();
                format!("ip:{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
            }
        },
    }
}

/// The rules for one kind of bucket (an account, a client address).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottlePolicy {
    /// Failures allowed within a window before delays start.
    pub free_failures: i32,
    /// The first delay; each further failure doubles it.
    pub base_delay: Duration,
    pub max_delay: Duration,
    /// Failures older than this (counted from the first) are forgotten once no delay runs.
    pub window: Duration,
}

impl ThrottlePolicy {
    /// Per account: five free guesses, then 30 s, 1 min, 2 min, … up to 15 min.
    pub const ACCOUNT: ThrottlePolicy = ThrottlePolicy {
        free_failures: 5,
        base_delay: Duration::seconds(30),
        max_delay: Duration::minutes(15),
        window: Duration::hours(1),
    };

    /// Registrations per client address: every attempt counts (each may send an email).
    pub const REGISTRATION: ThrottlePolicy = ThrottlePolicy {
        free_failures: 10,
        base_delay: Duration::seconds(60),
        max_delay: Duration::minutes(30),
        window: Duration::hours(1),
    };

    /// Per client address (IPv4, or IPv6 /64): generous, since many people can share one.
    pub const ADDRESS: ThrottlePolicy = ThrottlePolicy {
        free_failures: 50,
        base_delay: Duration::seconds(30),
        max_delay: Duration::minutes(15),
        window: Duration::hours(1),
    };
}

/// A bucket's failures as stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ThrottleState {
    pub failures: i32,
    pub window_started_at: DateTime<Utc>,
    pub blocked_until: Option<DateTime<Utc>>,
}

impl ThrottleState {
    /// How long the bucket is still held back at `now`, if it is.
    pub fn retry_after(&self, now: DateTime<Utc>) -> Option<Duration> {
        self.blocked_until
            .filter(|until| *until > now)
            .map(|until| until - now)
    }
}

impl ThrottlePolicy {
    /// The bucket after one more failure at `now`.
    pub fn after_failure(&self, state: Option<ThrottleState>, now: DateTime<Utc>) -> ThrottleState {
        let live = state.filter(|state| {
            state.retry_after(now).is_some() || now < state.window_started_at + self.window
        });
        let (failures, window_started_at) = match live {
            Some(state) => (state.failures.saturating_add(1), state.window_started_at),
            None => (1, now),
        };
        let over = failures - self.free_failures;
        let blocked_until = (over > 0).then(|| now + self.delay(over));
        ThrottleState {
            failures,
            window_started_at,
            blocked_until,
        }
    }

    fn delay(&self, over: i32) -> Duration {
        let doublings = u32::try_from(over - 1).unwrap_or(0).min(20);
        let delay = self.base_delay * 2_i32.pow(doublings);
        delay.min(self.max_delay)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn start() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 23, 12, 0, 0).unwrap()
    }

    fn fail(policy: ThrottlePolicy, times: i32, at: DateTime<Utc>) -> ThrottleState {
        let mut state = None;
        for _ in 0..times {
            state = Some(policy.after_failure(state, at));
        }
        state.unwrap()
    }

    #[test]
    fn ipv6_addresses_share_their_64() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap();
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap();
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap();
        assert_eq!(address_bucket(a), address_bucket(b));
        assert_ne!(address_bucket(a), address_bucket(c));
        assert_eq!(address_bucket(a), "ip:2001:db8:1:2::/64");
        let mapped: IpAddr = "::ffff:10.0.0.1".parse().unwrap();
        assert_eq!(address_bucket(mapped), "ip:10.0.0.1");
        assert_eq!(address_bucket("10.0.0.1".parse().unwrap()), "ip:10.0.0.1");
    }

    #[test]
    fn free_failures_do_not_block() {
        let state = fail(ThrottlePolicy::ACCOUNT, 5, start());
        assert_eq!(state.failures, 5);
        assert_eq!(state.retry_after(start()), None);
    }

    #[test]
    fn delays_double_and_are_capped() {
        let policy = ThrottlePolicy::ACCOUNT;
        let delays: Vec<i64> = (6..=12)
            .map(|n| {
                fail(policy, n, start())
                    .retry_after(start())
                    .unwrap()
                    .num_seconds()
            })
            .collect();
        assert_eq!(delays, vec![30, 60, 120, 240, 480, 900, 900]);
    }

    #[test]
    fn a_block_always_ends() {
        let state = fail(ThrottlePolicy::ACCOUNT, 1000, start());
        let until = state.blocked_until.unwrap();
        assert!(until <= start() + Duration::minutes(15));
        assert_eq!(state.retry_after(until), None);
    }

    #[test]
    fn failures_are_forgotten_after_the_window() {
        let policy = ThrottlePolicy::ACCOUNT;
        let state = fail(policy, 4, start());
        let later = start() + policy.window;
        let next = policy.after_failure(Some(state), later);
        assert_eq!(next.failures, 1);
        assert_eq!(next.window_started_at, later);
    }

    #[test]
    fn a_running_delay_keeps_the_count_past_the_window() {
        let policy = ThrottlePolicy {
            window: Duration::seconds(10),
            ..ThrottlePolicy::ACCOUNT
        };
        let state = fail(policy, 6, start());
        let during = start() + Duration::seconds(20);
        assert!(state.retry_after(during).is_some());
        assert_eq!(policy.after_failure(Some(state), during).failures, 7);
    }
}
