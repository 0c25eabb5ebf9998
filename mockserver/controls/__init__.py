"""What a frontend developer steers the mock with: latency, fault rules, the journal,
the console and the admin API's document."""
