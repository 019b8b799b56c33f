-- What each notifier (a route of NOTIFICATIONS, by key) was last told of
-- each check, and when: a notifier is told again only when what it hears
-- changes, or when a reminder is due.
-- +goose Up
CREATE TABLE IF NOT EXISTS `healthjob_alert_notified` (
    `app_id` varchar(100) NOT NULL,
    `name` varchar(50) NOT NULL,
    `route` varchar(64) NOT NULL,
    `state` varchar(16) NOT NULL,
    `notified_at` datetime(6) NOT NULL,
    PRIMARY KEY (`app_id`, `name`, `route`)
);

-- +goose Down
DROP TABLE `healthjob_alert_notified`;
