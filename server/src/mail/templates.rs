//! The text of every message Haven sends. Messages about cases say only that something
//! changed, with a link; never the content.

use super::Mail;

fn footer() -> &'static str {
    "\n\n--\nHaven, for the event's safety team. If you did not expect this message, you can ignore it."
}

pub fn signin_link(to: &str, link: &str) -> Mail {
    Mail {
        kind: "signin_link",
        to: to.to_owned(),
        subject: "Your Haven sign-in link".to_owned(),
        text: format!(
            "Use this link within 15 minutes to sign in to Haven. It works once.\n\n{link}\n\n\
             If you did not ask for it, someone typed your address; nothing happens unless the link is used.{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}

pub fn staff_invitation(to: &str, role_label: &str, scope: &str, link: &str) -> Mail {
    Mail {
        kind: "staff_invitation",
        to: to.to_owned(),
        subject: format!("You are invited to join {scope} on Haven"),
        text: format!(
            "You are invited to help at {scope} as: {role_label}.\n\n\
             Accept the invitation here (the link works once, for 7 days):\n\n{link}{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}
