// Two translation units include the umbrella header; a missing `inline` on any namespace-scope
// function or variable fails this link with a multiple-definition error.
double odr_a();
double odr_b();

int main() { return odr_a() > 0.0 && odr_b() > 0.0 ? 0 : 1; }
