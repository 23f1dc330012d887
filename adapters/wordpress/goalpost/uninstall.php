<?php
/**
 * Removes everything the plugin stored: options, queue, status, caches and the cron event.
 *
 * @package Goalpost
 */

if ( ! defined( 'WP_UNINSTALL_PLUGIN' ) ) {
	exit;
}

/**
 * Removes this site's data.
 */
function goalpost_uninstall_site() {
	global $wpdb;
	foreach ( array( 'goalpost_settings', 'goalpost_queue', 'goalpost_status' ) as $option ) {
		delete_option( $option );
	}
	delete_transient( 'goalpost_widget_stats' );
	// Per-user test results: goalpost_test_result_<user id>.
	$names = $wpdb->get_col( // phpcs:ignore WordPress.DB.DirectDatabaseQuery
		$wpdb->prepare(
			"SELECT option_name FROM {$wpdb->options} WHERE option_name LIKE %s",
			$wpdb->esc_like( '_transient_goalpost_test_result_' ) . '%'
		)
	);
	foreach ( $names as $name ) {
		delete_transient( substr( $name, strlen( '_transient_' ) ) );
	}
	wp_clear_scheduled_hook( 'goalpost_retry' );
}

if ( is_multisite() ) {
	foreach ( get_sites( array( 'fields' => 'ids' ) ) as $goalpost_site_id ) {
		switch_to_blog( $goalpost_site_id );
		goalpost_uninstall_site();
		restore_current_blog();
	}
} else {
	goalpost_uninstall_site();
}
