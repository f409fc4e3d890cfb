"""The publisher service: media, posts, approval, scheduling and exactly-once publishing."""
