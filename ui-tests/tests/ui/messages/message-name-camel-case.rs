// A CamelCase message name is rejected with the conventional name suggested.
use concurrence::message;

message!(Greeting(String));

fn main() {}
