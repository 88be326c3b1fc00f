//! Outgoing email (AUTH-5 and account notices).
//!
//! - [`Mailer`]: sends through an SMTP server given by URL (`smtp://host:port`,
//!   `smtp://user:pass@host:587?tls=required` for STARTTLS, `smtps://…` for TLS), or, when
//!   none is configured, writes each message as an `.eml` file into an outbox directory so
//!   a fresh install works and an operator can read what would have been sent.
//! - [`messages`]: the texts DocuVault sends. Links are built from the configured public
//!   URL, never from a request's Host header.

pub mod messages;

use lettre::message::{Body, Mailbox, SinglePart};
use lettre::{AsyncFileTransport, AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use std::path::Path;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum MailError {
    #[error("the mail configuration is not usable: {0}")]
    Config(String),
    #[error("the message could not be built: {0}")]
    Build(String),
    #[error("the message could not be sent: {0}")]
    Send(String),
}

/// A message to one person.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outgoing {
    pub to: String,
    pub subject: String,
    pub text: String,
}

#[derive(Clone)]
enum Transport {
    Smtp(AsyncSmtpTransport<Tokio1Executor>),
    Outbox(AsyncFileTransport<Tokio1Executor>),
}

#[derive(Clone)]
pub struct Mailer {
    transport: Transport,
    from: Mailbox,
}

impl Mailer {
    /// SMTP at `smtp_url`, or the outbox directory when there is none.
    pub fn new(smtp_url: Option<&str>, from: &str, outbox: &Path) -> Result<Self, MailError> {
        let from: Mailbox = from
            .parse()
            .map_err(|error| MailError::Config(format!("MAIL_FROM: {error}")))?;
        let transport = match smtp_url {
            Some(url) => Transport::Smtp(
                AsyncSmtpTransport::<Tokio1Executor>::from_url(url)
                    .map_err(|error| MailError::Config(format!("SMTP_URL: {error}")))?
                    .timeout(Some(std::time::Duration::from_secs(20)))
                    .build(),
            ),
            None => {
                std::fs::create_dir_all(outbox).map_err(|error| {
                    MailError::Config(format!("cannot create {}: {error}", outbox.display()))
                })?;
                Transport::Outbox(AsyncFileTransport::<Tokio1Executor>::new(outbox))
            }
        };
        Ok(Self { transport, from })
    }

    /// Whether messages only go to the outbox directory.
    pub fn is_outbox(&self) -> bool {
        matches!(self.transport, Transport::Outbox(_))
    }

    pub async fn send(&self, outgoing: &Outgoing) -> Result<(), MailError> {
        let to: Mailbox = outgoing
            .to
            .parse()
            .map_err(|error| MailError::Build(format!("recipient: {error}")))?;
        // lettre picks the transfer encoding (quoted-printable for lines as long as a link).
        let body = SinglePart::builder()
            .header(lettre::message::header::ContentType::TEXT_PLAIN)
            .body(Body::new(outgoing.text.clone()));
        let message = Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(outgoing.subject.clone())
            .singlepart(body)
            .map_err(|error| MailError::Build(error.to_string()))?;
        match &self.transport {
            Transport::Smtp(smtp) => smtp
                .send(message)
                .await
                .map(|_| ())
                .map_err(|error| MailError::Send(error.to_string())),
            Transport::Outbox(outbox) => {
                let id = outbox
                    .send(message)
                    .await
                    .map_err(|error| MailError::Send(error.to_string()))?;
                tracing::info!(file = %format!("{id}.eml"), "no SMTP server configured: message written to the outbox");
                Ok(())
            }
        }
    }
}
