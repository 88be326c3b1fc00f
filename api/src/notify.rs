//! Sending the account emails off the request path: a reply never waits for (or reveals,
//! by its timing) whether a message went out. Failures are logged with the account id,
//! never the address or the link.

use crate::AppState;
use commands::accounts::EmailLink;
use mail::messages;
use uuid::Uuid;

/// Sends `message` in the background.
pub fn send(state: &AppState, user_id: Option<Uuid>, message: mail::Outgoing) {
    let mailer = state.mailer.clone();
    tokio::spawn(async move {
        if let Err(error) = mailer.send(&message).await {
            tracing::warn!(?user_id, %error, subject = %message.subject, "an account email was not sent");
        }
    });
}

fn public_url(state: &AppState) -> &str {
    state
        .config
        .public_origin
        .as_deref()
        .unwrap_or("http://127.0.0.1:8080")
}

pub fn verification(state: &AppState, link: EmailLink) {
    let url = messages::link(public_url(state), "/verify-email", &link.token);
    let hours = state.accounts.links().verify_email.num_minutes();
    send(
        state,
        Some(link.user_id),
        messages::verify_email(&link.email, &url, hours),
    );
}

pub fn password_reset(state: &AppState, link: EmailLink) {
    let url = messages::link(public_url(state), "/reset-password", &link.token);
    let minutes = state.accounts.links().reset_password.num_minutes();
    send(
        state,
        Some(link.user_id),
        messages::password_reset(&link.email, &url, minutes),
    );
}

pub fn invitation(state: &AppState, invitation: commands::invites::Invitation) {
    let base = public_url(state).trim_end_matches('/');
    let url = format!("{base}/register?invite={}", invitation.token.as_str());
    let days = (invitation.expires_at - state.clock.now())
        .num_days()
        .max(1);
    send(
        state,
        None,
        messages::invitation(&invitation.email, &url, days),
    );
}

pub fn email_change(state: &AppState, link: EmailLink, old_email: Option<String>) {
    let url = messages::link(public_url(state), "/confirm-email", &link.token);
    if let Some(old) = old_email {
        send(
            state,
            Some(link.user_id),
            messages::email_change_requested(&old),
        );
    }
    send(
        state,
        Some(link.user_id),
        messages::confirm_new_email(&link.email, &url),
    );
}

pub fn email_changed(state: &AppState, user_id: Uuid, old_email: &str, new_email: &str) {
    send(
        state,
        Some(user_id),
        messages::email_changed(old_email, new_email),
    );
}

pub fn already_registered(state: &AppState, email: &str) {
    let base = public_url(state).trim_end_matches('/');
    send(
        state,
        None,
        messages::already_registered(
            email,
            &format!("{base}/login"),
            &format!("{base}/forgot-password"),
        ),
    );
}

pub fn password_changed(state: &AppState, user_id: Uuid, email: &str) {
    send(state, Some(user_id), messages::password_changed(email));
}
