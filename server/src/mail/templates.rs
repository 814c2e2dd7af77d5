//! The text of every message Haven sends. Messages about cases say only that something
//! changed, with a link; never the content.

use super::Mail;

fn footer() -> &'static str {
    "\n\n--\nHaven, for the event's safety team. If you did not expect this message, you can ignore it."
}

pub fn confirm_address(to: &str, name: &str, link: &str) -> Mail {
    Mail {
        about: None,
        kind: "confirm_address",
        to: to.to_owned(),
        subject: "Confirm your address for Haven".to_owned(),
        text: format!(
            "{name} asked to sign in to Haven with this address too. Use this link within an hour to \
             confirm it; it works once.\n\n{link}\n\nIf that was not you, ignore this message: \
             nothing changes unless the link is used.{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}

pub fn signin_link(to: &str, link: &str) -> Mail {
    Mail {
        about: None,
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
        about: None,
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

/// Messages about cases name the event and give a link; never the case's content.
fn case_mail(kind: &'static str, to: &str, subject: String, text: String) -> Mail {
    Mail {
        about: None,
        kind,
        to: to.to_owned(),
        subject,
        text: format!("{text}{}", footer()),
        html: None,
        attachments: Vec::new(),
    }
}

pub fn case_received(to: &str, event: &str, reference: &str, link: &str) -> Mail {
    case_mail(
        "case_received",
        to,
        format!("We received your report ({reference})"),
        format!(
            "Thank you. The safety team of {event} received your report {reference} and will acknowledge it soon.\n\n\
             Follow it here (sign in with this address):\n\n{link}"
        ),
    )
}

pub fn case_news(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "case_news",
        to,
        format!("News about your report to the {event} safety team"),
        format!("There is something new on your report. Read it here (sign in with this address):\n\n{link}"),
    )
}

pub fn team_new_case(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_new_case",
        to,
        format!("A new report for the {event} safety team"),
        format!("A new report was filed. Please acknowledge it in time:\n\n{link}"),
    )
}

pub fn retention_warning(to: &str, event: &str, until: &str, tz: &str, link: &str) -> Mail {
    case_mail(
        "retention_warning",
        to,
        format!("A report at {event} is about to be erased"),
        format!(
            "The text of a report you handle is erased after {until} ({tz}), as your organization keeps it no longer.\n\n\
             If it must be kept longer, a responder may extend its keeping once, with a reason, here:\n\n{link}"
        ),
    )
}

pub fn team_case_activity(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_case_activity",
        to,
        format!("Activity on a report at {event}"),
        format!("A report you handle has something new:\n\n{link}"),
    )
}

pub fn team_ack_overdue(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_ack_overdue",
        to,
        format!("A report at {event} is waiting for acknowledgement"),
        format!("A report has passed its acknowledgement deadline. Please look at it now:\n\n{link}"),
    )
}

pub fn team_possible_match(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_possible_match",
        to,
        format!("A new registration at {event} may concern a report"),
        format!("Someone who registered may be the person a report names. Please check:\n\n{link}"),
    )
}

pub fn escort_assignment(to: &str, event: &str, link: &str, calendar: super::Attachment) -> Mail {
    Mail {
        about: None,
        kind: "escort_assignment",
        to: to.to_owned(),
        subject: format!("A new escort assignment at {event}"),
        text: format!(
            "You have a new escort assignment at {event}. The calendar entry is attached.\n\n\
             Please acknowledge it here:\n\n{link}{}",
            footer()
        ),
        html: None,
        attachments: vec![calendar],
    }
}

pub fn team_escort_unacknowledged(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_escort_unacknowledged",
        to,
        format!("An escort assignment at {event} is not acknowledged"),
        format!("An escort has not acknowledged an assignment in time. Please check the plan:\n\n{link}"),
    )
}

pub fn team_escort_gone(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_escort_gone",
        to,
        format!("An escort assignment at {event} has no escort any more"),
        format!("An escort no longer holds the escort role, so their assignment ended. Please plan another:\n\n{link}"),
    )
}

pub fn team_duty_ended(to: &str, event: &str, link: &str) -> Mail {
    case_mail(
        "team_duty_ended",
        to,
        format!("An escort or alert recipient at {event} was taken off a case"),
        format!(
            "Someone assigned to escort, or to be told of an arrival, on a case is now involved in it, so their \
             part in its plan ended. Please plan another:\n\n{link}"
        ),
    )
}

/// An arrival alert: the gate and the instruction; the case's link only for its team.
pub fn arrival_alert(to: &str, event: &str, gate: &str, instruction: &str, link: &str) -> Mail {
    let instruction = if instruction.is_empty() { "Please follow the agreed plan." } else { instruction };
    Mail {
        about: None,
        kind: "arrival_alert",
        to: to.to_owned(),
        subject: format!("Arrival alert at {event}, {gate}"),
        text: format!(
            "A person you are to be told about has just arrived at {gate}.\n\n{instruction}\n\n{link}{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}

/// The audit chain's head for the installation's operators: one line to keep elsewhere.
pub fn audit_checkpoint(to: &str, public_url: &str, day: &str, checkpoint: &str) -> Mail {
    Mail {
        about: None,
        kind: "audit_checkpoint",
        to: to.to_owned(),
        subject: format!("Haven audit checkpoint {day}"),
        text: format!(
            "Haven audit checkpoint {day} {public_url} {checkpoint}\n\n\
             Keep the line above somewhere Haven's database cannot reach (a ticket, a notebook, \
             another mailbox). To check that the audit log still holds that record, and so was \
             neither cut back nor rewritten up to it, run on the server:\n\n\
             haven audit verify --expect {checkpoint}\n\n\
             --\nHaven sends this once a day to HAVEN_AUDIT_CHECKPOINT_TO."
        ),
        html: None,
        attachments: Vec::new(),
    }
}

/// Told to a person whose account gained a second factor: if it was not them, their
/// sign-in mail is in someone else's hands.
pub fn second_factor_set_up(to: &str, link: &str) -> Mail {
    Mail {
        about: None,
        kind: "second_factor_set_up",
        to: to.to_owned(),
        subject: "A second factor now protects your Haven sign-in".to_owned(),
        text: format!(
            "An authenticator app was just set up as the second factor of your Haven account; \
             signing in now asks for a code from it.\n\n{link}\n\nIf that was not you, tell an \
             administrator of your organization at once: they can remove it.{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}

/// Told to a person when one of their recovery codes was used to sign in.
pub fn recovery_code_used(to: &str, left: u64, link: &str) -> Mail {
    Mail {
        about: None,
        kind: "recovery_code_used",
        to: to.to_owned(),
        subject: "A recovery code was used to sign in to Haven".to_owned(),
        text: format!(
            "One of your recovery codes was just used to confirm a sign-in to your Haven account; \
             {left} unused code(s) remain. If you lost your phone, set up the app again from your \
             page:\n\n{link}\n\nIf that was not you, tell an administrator of your organization at once.{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}

/// Told to the person whose second factor an administrator removed, and to that
/// administrator.
pub fn second_factor_reset(to: &str, whose: &str, by: &str, link: &str) -> Mail {
    Mail {
        about: None,
        kind: "second_factor_reset",
        to: to.to_owned(),
        subject: "A Haven second factor was removed".to_owned(),
        text: format!(
            "{by} removed the second factor of {whose}'s Haven account. Until a new authenticator \
             app is set up, staff roles that need one wait; set it up after signing in:\n\n{link}\n\n\
             If nobody asked for this, tell another administrator of your organization.{}",
            footer()
        ),
        html: None,
        attachments: Vec::new(),
    }
}
