//! Given-events / when-command / then-events tests for any [`Aggregate`].

use crate::Aggregate;

/// Starts a test with the services the aggregate should see.
pub struct AggregateTest<A: Aggregate> {
    services: A::Services,
}

impl<A: Aggregate> AggregateTest<A> {
    pub fn with(services: A::Services) -> Self {
        Self { services }
    }

    /// The aggregate's history before the command.
    pub fn given(self, events: Vec<A::Event>) -> When<A> {
        let mut aggregate = A::default();
        for event in events {
            aggregate.apply(event);
        }
        When {
            aggregate,
            services: self.services,
        }
    }

    pub fn given_no_previous_events(self) -> When<A> {
        self.given(Vec::new())
    }
}

pub struct When<A: Aggregate> {
    aggregate: A,
    services: A::Services,
}

impl<A: Aggregate> When<A> {
    pub fn when(self, command: A::Command) -> Then<A> {
        Then {
            result: self.aggregate.handle(command, &self.services),
        }
    }
}

pub struct Then<A: Aggregate> {
    result: Result<Vec<A::Event>, A::Error>,
}

impl<A: Aggregate> Then<A> {
    #[track_caller]
    pub fn then_expect_events(self, expected: Vec<A::Event>) {
        match self.result {
            Ok(events) => assert_eq!(events, expected),
            Err(error) => unreachable_in_test(&format!("expected events, got error {error:?}")),
        }
    }

    #[track_caller]
    pub fn then_expect_error(self, expected: A::Error) {
        match self.result {
            Ok(events) => {
                unreachable_in_test(&format!("expected {expected:?}, got events {events:?}"))
            }
            Err(error) => assert_eq!(error, expected),
        }
    }
}

#[track_caller]
#[allow(clippy::panic)] // a failed expectation is a test failure
fn unreachable_in_test(message: &str) {
    panic!("{message}");
}
