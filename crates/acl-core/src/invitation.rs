//! The invitation state machine of rule F5, a pure function: which events move an
//! invitation from which state, by whom. The platform's folder workflows keep the
//! invitation rows and apply the result; this module decides it.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::text::clip;

/// An invitation's state (rule F5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InvitationState {
    /// Waiting for the invitee.
    Pending,
    /// Accepted by the invitee: a share exists (or existed).
    Accepted,
    /// Rejected by the invitee.
    Rejected,
    /// Canceled by the inviter, a folder manager, or the folder's deletion.
    Canceled,
}

impl InvitationState {
    /// Every state.
    pub const ALL: &'static [InvitationState] = &[
        InvitationState::Pending,
        InvitationState::Accepted,
        InvitationState::Rejected,
        InvitationState::Canceled,
    ];

    /// The text form (the one stores keep).
    pub const fn as_str(self) -> &'static str {
        match self {
            InvitationState::Pending => "pending",
            InvitationState::Accepted => "accepted",
            InvitationState::Rejected => "rejected",
            InvitationState::Canceled => "canceled",
        }
    }

    /// Parses the text form.
    pub fn parse(text: &str) -> Result<InvitationState> {
        InvitationState::ALL
            .iter()
            .copied()
            .find(|s| s.as_str() == text)
            .ok_or_else(|| {
                Error::InvalidInput(format!(
                    "invalid invitationstate `{}`: expected one of pending, accepted, rejected, \
                     canceled",
                    clip(text)
                ))
            })
    }

    /// Whether the state is an end state: nothing changes it any more (rule F5).
    pub const fn is_final(self) -> bool {
        !matches!(self, InvitationState::Pending)
    }
}

impl fmt::Display for InvitationState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An event of the invitation state machine (rule F5). `P` is what a change of permission
/// offers (the platform's `ro` / `rw`); the machine only carries it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InvitationEvent<P> {
    /// The invitee accepts.
    Accept,
    /// The invitee rejects.
    Reject,
    /// The inviter or a folder manager cancels.
    Cancel,
    /// The inviter changes the permission offered.
    ChangePermission(P),
}

impl<P> InvitationEvent<P> {
    /// The event's name, for messages and the changelog.
    pub const fn as_str(&self) -> &'static str {
        match self {
            InvitationEvent::Accept => "accept",
            InvitationEvent::Reject => "reject",
            InvitationEvent::Cancel => "cancel",
            InvitationEvent::ChangePermission(_) => "change the permission of",
        }
    }
}

/// How the actor of an event stands to the invitation (an actor may be several at once).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct InvitationParty {
    /// The actor is the invitee.
    pub invitee: bool,
    /// The actor is the inviter.
    pub inviter: bool,
    /// The actor holds `manage` on the folder.
    pub manager: bool,
}

/// The invitation state machine of rule F5, a pure function: the state after `event` by
/// an actor standing as `party` to an invitation in `state`, or the typed error refusing
/// it. The party is checked first ([`Error::NotPermitted`]), then the state
/// ([`Error::Conflict`]): end states are final.
///
/// - `pending -> accepted | rejected`: by the invitee only;
/// - `pending -> canceled`: by the inviter or a manager of the folder;
/// - `pending -> pending` with a new permission: by the inviter only.
pub fn transition<P>(
    state: InvitationState,
    event: &InvitationEvent<P>,
    party: InvitationParty,
) -> Result<InvitationState> {
    let (allowed, who, next) = match event {
        InvitationEvent::Accept => (party.invitee, "the invitee", InvitationState::Accepted),
        InvitationEvent::Reject => (party.invitee, "the invitee", InvitationState::Rejected),
        InvitationEvent::Cancel => (
            party.inviter || party.manager,
            "the inviter or a manager of the folder",
            InvitationState::Canceled,
        ),
        InvitationEvent::ChangePermission(_) => {
            (party.inviter, "the inviter", InvitationState::Pending)
        }
    };
    if !allowed {
        return Err(Error::NotPermitted(format!(
            "only {who} may {} an invitation",
            event.as_str()
        )));
    }
    if state.is_final() {
        return Err(Error::Conflict(format!(
            "the invitation is already {state}: it cannot be {}",
            match event {
                InvitationEvent::Accept => "accepted",
                InvitationEvent::Reject => "rejected",
                InvitationEvent::Cancel => "canceled",
                InvitationEvent::ChangePermission(_) => "changed",
            }
        )));
    }
    Ok(next)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::error::ErrorKind;

    const INVITEE: InvitationParty = InvitationParty {
        invitee: true,
        inviter: false,
        manager: false,
    };
    const INVITER: InvitationParty = InvitationParty {
        invitee: false,
        inviter: true,
        manager: true,
    };
    const MANAGER: InvitationParty = InvitationParty {
        invitee: false,
        inviter: false,
        manager: true,
    };
    const STRANGER: InvitationParty = InvitationParty {
        invitee: false,
        inviter: false,
        manager: false,
    };

    // rule F5: the whole table of the state machine
    #[test]
    fn f5_transition_table() {
        use InvitationEvent::*;
        use InvitationState::*;
        let change = ChangePermission("rw");
        let ok = [
            (Pending, Accept, INVITEE, Accepted),
            (Pending, Reject, INVITEE, Rejected),
            (Pending, Cancel, INVITER, Canceled),
            (Pending, Cancel, MANAGER, Canceled),
            (Pending, change, INVITER, Pending),
        ];
        for (state, event, party, next) in ok {
            assert_eq!(transition(state, &event, party).unwrap(), next);
        }
        let forbidden = [
            (Accept, INVITER),
            (Accept, MANAGER),
            (Accept, STRANGER),
            (Reject, INVITER),
            (Reject, STRANGER),
            (Cancel, INVITEE),
            (Cancel, STRANGER),
            (change, INVITEE),
            (change, MANAGER),
        ];
        for (event, party) in forbidden {
            for state in InvitationState::ALL {
                let err = transition(*state, &event, party).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Forbidden, "{state} {event:?}");
            }
        }
        for state in [Accepted, Rejected, Canceled] {
            for (event, party) in [
                (Accept, INVITEE),
                (Reject, INVITEE),
                (Cancel, INVITER),
                (change, INVITER),
            ] {
                let err = transition(state, &event, party).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::Conflict, "{state} {event:?}");
                assert!(err.to_string().contains(state.as_str()), "{err}");
            }
        }
    }

    #[test]
    fn states_round_trip_their_text() {
        for state in InvitationState::ALL {
            assert_eq!(InvitationState::parse(state.as_str()).unwrap(), *state);
        }
        assert_eq!(
            InvitationState::parse("done").unwrap_err().kind(),
            ErrorKind::InvalidInput
        );
    }
}
