mod byzantine;
mod harness;
mod rounds;
