//! Integration tests of the knowledge-base loader: broken knowledge bases give located errors.

mod load;
