"""An event-driven order saga on AWS Step Functions."""
