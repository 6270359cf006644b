//! Schemas, declared once per provider, data source and resource. The same
//! declaration yields the protocol schema, the object type used to decode and
//! encode values, and the documentation.

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

impl Attribute {
    fn new(name: &'static str, ty: Type, description: impl Into<Cow<'static, str>>) -> Self {
        Attribute {
            name,
            ty,
            description: description.into(),
            required: false,
            optional: false,
            computed: false,
            sensitive: false,
        }
    }

    pub(crate) fn required(name: &'static str, ty: Type, description: impl Into<Cow<'static, str>>) -> Self {
        Attribute { required: true, ..Attribute::new(name, ty, description) }
    }

    pub(crate) fn optional(name: &'static str, ty: Type, description: impl Into<Cow<'static, str>>) -> Self {
        Attribute { optional: true, ..Attribute::new(name, ty, description) }
    }

    pub(crate) fn computed(name: &'static str, ty: Type, description: impl Into<Cow<'static, str>>) -> Self {
        Attribute { computed: true, ..Attribute::new(name, ty, description) }
    }

    /// Set by the user or, when left out, by the provider.
    pub(crate) fn optional_computed(
        name: &'static str,
        ty: Type,
        description: impl Into<Cow<'static, str>>,
    ) -> Self {
        Attribute { optional: true, computed: true, ..Attribute::new(name, ty, description) }
    }

    #[must_use]
    pub(crate) fn sensitive(mut self) -> Self {
        self.sensitive = true;
        self
    }
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

/// `list(string)`.
pub(crate) fn list_of_strings() -> Type {
    Type::List(Box::new(Type::String))
}

/// `map(string)`.
pub(crate) fn map_of_strings() -> Type {
    Type::Map(Box::new(Type::String))
}
