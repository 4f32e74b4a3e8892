mod byzantine;
mod harness;
mod rounds;
mod safety;
