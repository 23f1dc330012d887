<?php
/**
 * The effective configuration: wp-config.php constants first, then the saved options.
 *
 * @package Goalpost
 */

namespace Goalpost;

if ( ! defined( 'ABSPATH' ) ) {
	exit;
}

/**
 * Reads each setting from its constant when defined, else from the `goalpost_settings` option.
 */
final class Config {

	const OPTION = 'goalpost_settings';

	/** The wp-config.php constant of each setting. */
	const CONSTANTS = array(
		'url'          => 'GOALPOST_URL',
		'site'         => 'GOALPOST_SITE',
		'api_key'      => 'GOALPOST_API_KEY',
		'track_admins' => 'GOALPOST_TRACK_ADMINS',
		'ip_header'    => 'GOALPOST_IP_HEADER',
	);

	/**
	 * Whether a constant sets this setting (the settings page then shows it read-only).
	 *
	 * @param string $name A key of CONSTANTS.
	 */
	public static function is_constant( string $name ): bool {
		return isset( self::CONSTANTS[ $name ] ) && defined( self::CONSTANTS[ $name ] );
	}

	/**
	 * The raw value of a setting, or null when neither constant nor option has it.
	 *
	 * @param string $name A key of CONSTANTS.
	 * @return mixed
	 */
	private static function raw( string $name ) {
		if ( self::is_constant( $name ) ) {
			return constant( self::CONSTANTS[ $name ] );
		}
		$options = get_option( self::OPTION, array() );
		return is_array( $options ) && isset( $options[ $name ] ) ? $options[ $name ] : null;
	}

	/** The Goalpost server's base URL, without a trailing slash ('' when unset). */
	public static function url(): string {
		$url = self::raw( 'url' );
		return is_string( $url ) ? untrailingslashit( esc_url_raw( trim( $url ) ) ) : '';
	}

	/** The site's domain as registered in Goalpost; by default the host of home_url(). */
	public static function site(): string {
		$site = self::raw( 'site' );
		if ( is_string( $site ) && '' !== trim( $site ) ) {
			return trim( $site );
		}
		$host = wp_parse_url( home_url(), PHP_URL_HOST );
		return is_string( $host ) ? $host : '';
	}

	/** The site API key ('' when unset). */
	public static function api_key(): string {
		$key = self::raw( 'api_key' );
		return is_string( $key ) ? trim( $key ) : '';
	}

	/** Whether users who can manage_options are tracked too (default off). */
	public static function track_admins(): bool {
		return (bool) filter_var( self::raw( 'track_admins' ), FILTER_VALIDATE_BOOLEAN );
	}

	/** The $_SERVER key holding the visitor's address (default REMOTE_ADDR). */
	public static function ip_header(): string {
		$header = self::raw( 'ip_header' );
		return is_string( $header ) && preg_match( '/^[A-Z0-9_]+$/', $header ) ? $header : 'REMOTE_ADDR';
	}

	/** Whether the tracker can be printed: a server URL and a site. */
	public static function can_track(): bool {
		return '' !== self::url() && '' !== self::site();
	}

	/** Whether server-side events can be sent: a server URL, a site and a key. */
	public static function can_send(): bool {
		return self::can_track() && '' !== self::api_key();
	}

	/**
	 * The key as it may be shown: its last four characters only.
	 *
	 * @param string $key A site API key.
	 */
	public static function mask( string $key ): string {
		if ( '' === $key ) {
			return '';
		}
		return str_repeat( '•', 8 ) . ( strlen( $key ) > 12 ? substr( $key, -4 ) : '' );
	}
}
