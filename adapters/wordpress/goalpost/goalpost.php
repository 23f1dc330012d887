<?php
/**
 * Plugin Name:       Goalpost
 * Plugin URI:        https://github.com/goalpost/goalpost
 * Description:       Sends your visitors' pageviews and every successful Contact Form 7, WPForms and Gravity Forms submission to your self-hosted Goalpost analytics server.
 * Version:           0.1.0
 * Requires at least: 6.1
 * Requires PHP:      7.4
 * Author:            Goalpost
 * License:           GPL-2.0-or-later
 * License URI:       https://www.gnu.org/licenses/gpl-2.0.html
 * Text Domain:       goalpost
 *
 * @package Goalpost
 */

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

define( 'GOALPOST_VERSION', '0.1.0' );
define( 'GOALPOST_PLUGIN_FILE', __FILE__ );

spl_autoload_register(
	static function ( $class_name ) {
		if ( 0 === strpos( $class_name, 'Goalpost\\' ) ) {
			$file = __DIR__ . '/src/' . substr( $class_name, strlen( 'Goalpost\\' ) ) . '.php';
			if ( is_readable( $file ) ) {
				require $file;
			}
		}
	}
);

( new Goalpost\Plugin() )->register();
