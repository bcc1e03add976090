/* Includes itself twice, 200 levels deep (2^200 inclusions), warning each time: megabytes of
   compiler output within a second. The build's output cap stops it at once. */
#warning "flood"
#include __FILE__
#include __FILE__
int main(void) { return 0; }
