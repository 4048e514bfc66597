//! The host's user and group database, for the policy's `[administrators] groups`.

use nix::unistd::{Group, User};

/// The uids of `name`'s members as the group database lists them (getgrnam_r, then
/// getpwnam_r per member: /etc/group's member list, or whatever NSS serves). A user whose
/// primary group it is, without being listed, is not a member here: list them, or name their
/// uid. A group that does not exist is an error, so that a typo cannot leave nobody in charge
/// without a word.
pub fn group_members(name: &str) -> Result<Vec<u32>, String> {
    let group = Group::from_name(name)
        .map_err(|e| format!("cannot read the group database: {e}"))?
        .ok_or_else(|| "no such group".to_string())?;
    group
        .mem
        .iter()
        .map(|member| match User::from_name(member) {
            Ok(Some(user)) => Ok(user.uid.as_raw()),
            Ok(None) => Err(format!("member {member:?} is no user")),
            Err(e) => Err(format!("member {member:?}: {e}")),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_group_that_does_not_exist_is_an_error() {
        let err = group_members("i2c-hal-no-such-group").unwrap_err();
        assert_eq!(err, "no such group");
    }

    #[test]
    fn an_existing_group_resolves_to_its_listed_members() {
        // Every Linux system has root's group; its listed members are usually none, and any
        // it lists must be users.
        let members = group_members("root").expect("the root group exists");
        assert!(members.iter().all(|uid| User::from_uid((*uid).into()).unwrap().is_some()));
    }
}
