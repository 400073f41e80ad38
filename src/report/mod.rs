//! Reports: read a [`crate::runner::RunReport`] and write it for people or machines. Reports
//! never send requests.
