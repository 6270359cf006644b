//! Schemas: one block of attributes per provider, data source and resource. The
//! same value yields the protocol schema and the object type used to decode and
//! encode values; what fills it is the provider's business.

use std::borrow::Cow;

use super::value::Type;

/// One attribute of a schema block.
#[derive(Debug, Clone)]
pub(crate) struct Attribute {
    pub(crate) name: &'static str,
    pub(crate) ty: Type,
    pub(crate) description: Cow<'static, str>,
    pub(crate) required: bool,
    pub(crate) optional: bool,
    pub(crate) computed: bool,
    pub(crate) sensitive: bool,
}

/// The schema of a provider, data source or resource: one block of attributes.
#[derive(Debug, Clone)]
pub(crate) struct Schema {
    pub(crate) version: i64,
    pub(crate) description: Cow<'static, str>,
    pub(crate) attributes: Vec<Attribute>,
}

impl Schema {
    pub(crate) fn new(description: impl Into<Cow<'static, str>>, attributes: Vec<Attribute>) -> Self {
        Schema { version: 0, description: description.into(), attributes }
    }

    #[must_use]
    pub(crate) fn with_version(mut self, version: i64) -> Self {
        self.version = version;
        self
    }

    /// The object type of a value of this block.
    pub(crate) fn object_type(&self) -> Type {
        Type::Object(self.attributes.iter().map(|a| (a.name.to_owned(), a.ty.clone())).collect())
    }
}
