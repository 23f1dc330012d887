<?php
/**
 * Wires every part of the plugin to WordPress.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Builds the services once and registers their hooks; admin-only parts only in the admin.
 */
final class Plugin {

	/**
	 * Registers the hooks of every part.
	 */
	public function register(): void {
		$delivery = new Delivery();
		$delivery->register();
		( new Tracker_Tag() )->register();
		( new Form_Hooks( $delivery ) )->register();

		add_action( 'init', array( $this, 'load_textdomain' ) );
		register_deactivation_hook( GOALPOST_PLUGIN_FILE, array( Delivery::class, 'unschedule' ) );

		if ( is_admin() ) {
			( new Settings( $delivery ) )->register();
			( new Dashboard_Widget() )->register();
		}

		if ( defined( 'WP_CLI' ) && WP_CLI ) {
			\WP_CLI::add_command( 'goalpost', new Command( $delivery ) );
		}
	}

	/**
	 * Translations from the plugin's languages folder (wordpress.org language packs win).
	 */
	public function load_textdomain(): void {
		load_plugin_textdomain( 'goalpost', false, dirname( plugin_basename( GOALPOST_PLUGIN_FILE ) ) . '/languages' );
	}
}
