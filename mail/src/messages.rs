//! The messages DocuVault sends. Plain text, short, with one link each.

use crate::Outgoing;

/// Links in messages: `{public_url}{path}?token={token}`.
pub fn link(public_url: &str, path: &str, token: &str) -> String {
    format!("{}{path}?token={token}", public_url.trim_end_matches('/'))
}

pub fn verify_email(to: &str, link: &str, valid_minutes: i64) -> Outgoing {
    let valid = if valid_minutes % 60 == 0 {
        format!("{} hours", valid_minutes / 60)
    } else {
        format!("{valid_minutes} minutes")
    };
    Outgoing {
        to: to.to_owned(),
        subject: "Confirm your email for DocuVault".into(),
        text: format!(
            "Welcome to DocuVault.\r\n\r\nConfirm that this is your email address by opening this link:\r\n\r\n{link}\r\n\r\nThe link works once, for {valid}. If you did not create an account, ignore this message.\r\n"
        ),
    }
}

pub fn already_registered(to: &str, sign_in: &str, reset: &str) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "You already have a DocuVault account".into(),
        text: format!(
            "Someone (probably you) tried to create a DocuVault account with this email address, but it already has one.\r\n\r\nSign in: {sign_in}\r\nForgot your password? {reset}\r\n\r\nIf it was not you, you can ignore this message: nothing has changed.\r\n"
        ),
    }
}

pub fn password_reset(to: &str, link: &str, valid_minutes: i64) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "Reset your DocuVault password".into(),
        text: format!(
            "To choose a new password, open this link:\r\n\r\n{link}\r\n\r\nThe link works once, for {valid_minutes} minutes. Setting a new password signs you out everywhere; two-step sign-in stays on.\r\n\r\nIf you did not ask for this, ignore this message: your password has not changed.\r\n"
        ),
    }
}

pub fn invitation(to: &str, link: &str, valid_days: i64) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "You are invited to DocuVault".into(),
        text: format!(
            "An administrator invited you to keep your documents in their DocuVault.\r\n\r\nCreate your account with this address here:\r\n\r\n{link}\r\n\r\nThe invitation works once, for {valid_days} days.\r\n"
        ),
    }
}

pub fn confirm_new_email(to: &str, link: &str) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "Confirm your new email for DocuVault".into(),
        text: format!(
            "Someone asked to use this address for a DocuVault account. If it was you, confirm it by opening this link:\r\n\r\n{link}\r\n\r\nThe link works once. If it was not you, ignore this message.\r\n"
        ),
    }
}

pub fn email_change_requested(to: &str) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "Your DocuVault email is about to change".into(),
        text: "Someone signed in to your DocuVault account asked to move it to another email address. It changes once the new address is confirmed.\r\n\r\nIf this was not you, change your password now and sign out everywhere.\r\n".into(),
    }
}

pub fn email_changed(to: &str, new_email: &str) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "Your DocuVault email was changed".into(),
        text: format!(
            "Your DocuVault account now uses {new_email}. Messages will go there from now on.\r\n\r\nIf this was not you, tell your administrator at once.\r\n"
        ),
    }
}

pub fn password_changed(to: &str) -> Outgoing {
    Outgoing {
        to: to.to_owned(),
        subject: "Your DocuVault password was changed".into(),
        text: "The password of your DocuVault account was just changed, and its other sessions were signed out.\r\n\r\nIf this was not you, reset your password at once and tell your administrator.\r\n".into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn links_use_the_configured_base_url() {
        assert_eq!(
            link("https://vault.example.org/", "/reset-password", "abc"),
            "https://vault.example.org/reset-password?token=abc"
        );
    }

    #[test]
    fn messages_carry_their_link() {
        let message = password_reset("a@example.org", "https://v/reset-password?token=t", 60);
        assert!(message.text.contains("https://v/reset-password?token=t"));
        assert!(message.text.contains("60 minutes"));
    }
}
