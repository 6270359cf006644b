//! Attribute paths as tfplugin5 has them: typed steps (attribute name, list index,
//! map key), built immutably, so a diagnostic or a decode error names the attribute
//! it is about (`tags["env"]`, `external_ids[1]`). The provider's own paths are
//! turned into these on its side; the protocol knows no other kind.

use std::fmt;

/// One step of a path.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum Step {
    /// An attribute of an object (or a block).
    Attr(String),
    /// An element of a list.
    Index(usize),
    /// An element of a map.
    Key(String),
}

/// A path from the root of a schema block; the root (no step) means the whole block.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub(crate) struct AttrPath {
    steps: Vec<Step>,
}

impl AttrPath {
    /// The whole block.
    pub(crate) fn root() -> Self {
        AttrPath::default()
    }

    /// The top-level attribute `name`.
    pub(crate) fn field(name: impl Into<String>) -> Self {
        AttrPath::root().attr(name)
    }

    fn with(&self, step: Step) -> Self {
        let mut steps = self.steps.clone();
        steps.push(step);
        AttrPath { steps }
    }

    /// This path, then attribute `name`.
    #[must_use]
    pub(crate) fn attr(&self, name: impl Into<String>) -> Self {
        self.with(Step::Attr(name.into()))
    }

    /// This path, then list element `i`.
    #[must_use]
    pub(crate) fn index(&self, i: usize) -> Self {
        self.with(Step::Index(i))
    }

    /// This path, then map element `key`.
    #[must_use]
    pub(crate) fn key(&self, key: impl Into<String>) -> Self {
        self.with(Step::Key(key.into()))
    }

    pub(crate) fn is_root(&self) -> bool {
        self.steps.is_empty()
    }

    pub(crate) fn steps(&self) -> &[Step] {
        &self.steps
    }
}

/// `a.b[0]["k"]`: how Terraform users write it (map keys JSON-quoted).
impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, step) in self.steps.iter().enumerate() {
            match step {
                Step::Attr(a) if i == 0 => f.write_str(a)?,
                Step::Attr(a) => write!(f, ".{a}")?,
                Step::Index(n) => write!(f, "[{n}]")?,
                Step::Key(k) => write!(f, "[{}]", serde_json::Value::from(k.as_str()))?,
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_built_immutably_and_print_as_terraform_writes_them() {
        let tags = AttrPath::field("tags");
        let env = tags.key("env");
        assert_eq!(tags.to_string(), "tags");
        assert_eq!(env.to_string(), r#"tags["env"]"#);
        assert_eq!(AttrPath::field("steps").index(1).attr("ok").to_string(), "steps[1].ok");
        assert!(AttrPath::root().is_root() && !env.is_root());
        assert_eq!(env.steps()[1], Step::Key("env".into()));
    }
}
